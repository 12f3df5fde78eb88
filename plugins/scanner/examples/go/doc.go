// Package main is netscanner in Go: the minimal scanner plugin that
// docs/writing-a-plugin.md walks through, the same device as the Python
// example beside it (codes a network scanner sends over TCP, one a line).
// Its main is scanner.Serve; base.Monitor gives it Health and Watch; its
// test runs the scanner conformance suite on it against a simulator.
package main
