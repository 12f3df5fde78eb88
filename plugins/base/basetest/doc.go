// Package plugintest is what the plugin kinds' conformance suites and tests
// share: Connect serves an implementation through go-plugin's in-memory gRPC
// connection, so that they drive it exactly as the runtime would, through
// the kind's gRPC client; Step and RunBase run a suite's dependent steps and
// the Info/Configure/Health steps every suite opens with; RunBroken checks
// that a suite fails broken implementations at the right step; and Exits
// records the exits a fake's injected crashes would make.
package basetest
