// Package pluginhost starts, verifies and supervises posrt's plugins. Each
// plugin named in the configuration runs in a child process through
// hashicorp/go-plugin, over gRPC only with automatic mutual TLS, its
// executable checked against the SHA-256 in the configuration, started with
// none of posrt's environment, and killed by the kernel if posrt dies: a
// process of its own, or one it shares with the other plugins of its
// Spec.Process, where each call names its instance in the posrt-instance
// gRPC metadata. The host negotiates each plugin's API version, configures
// it, puts a deadline on every call, and merges the process's log into
// posrt's under the plugin's (or the shared process's) name. A supervisor
// per process notices a crash or a hung member, restarts the process with
// back-off, brings every member back and counts the restarts; Shutdown lets
// every member's calls in flight finish before it stops the processes.
package pluginhost
