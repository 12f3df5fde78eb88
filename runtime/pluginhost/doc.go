// Package pluginhost starts, verifies and supervises posrt's plugins. Each
// plugin named in the configuration runs as a child process through
// hashicorp/go-plugin, over gRPC only with automatic mutual TLS, its
// executable checked against the SHA-256 in the configuration, started with
// none of posrt's environment, and killed by the kernel if posrt dies. The
// host negotiates the kind's API version, configures the plugin, puts a
// deadline on every call, and merges the plugin's log into posrt's under the
// plugin's name. A supervisor per plugin notices a crashed or hung plugin,
// rebuilds its client with back-off and counts the restarts; Shutdown lets
// calls in flight finish before it stops the processes.
package pluginhost
