// Package runtimetest is to posrt what httptest is to net/http: a recording
// flow host whose device answers a test scripts, so a flow can be tested
// without plugins or a journal, and helpers that build and start the posrt
// binary for end-to-end tests and benchmarks.
package runtimetest
