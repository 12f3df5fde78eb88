// Package python holds netscanner.py, a scanner plugin written in Python
// that speaks posrt's plugin contract (go-plugin's handshake with AutoMTLS,
// the base and scanner gRPC services) without any Go, and the test that
// starts it through runtime/pluginhost, as posrt starts a deployer's
// plugin, and runs the scanner conformance suite on it. The package has no
// Go code of its own: docs/writing-a-plugin.md walks through the plugin.
package python
