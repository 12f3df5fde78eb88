// Package runtimetest holds test doubles for posrt's runtime, as httptest
// does for net/http: a recording flow host whose device answers a test
// scripts, so a flow can be tested without plugins or a journal.
package runtimetest
