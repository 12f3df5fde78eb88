// Package testcards holds the test cards and the published test terminal
// master key that the fake PIN pad presents and the fake acquirer
// authorizes, so both sides of a test agree on them without either linking
// the other.
package testcards
