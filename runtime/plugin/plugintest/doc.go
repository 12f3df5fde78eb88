// Package plugintest serves a plugin implementation through go-plugin's
// in-memory gRPC connection, so that conformance suites and tests drive it
// exactly as the runtime would: through the kind's gRPC client.
package plugintest
