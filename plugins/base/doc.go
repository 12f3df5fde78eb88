// Package plugin is the base contract every posrt plugin links, whatever its
// kind: the go-plugin handshake, the Info/Configure/Health service that the
// host calls on every plugin, the mapping of a kind's sentinel errors onto
// gRPC status codes and back, and Serve, which runs a plugin process that
// exits by itself when the runtime that started it is gone.
package base
