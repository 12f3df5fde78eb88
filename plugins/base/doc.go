// Package base is the base contract every posrt plugin links, whatever its
// kind: the go-plugin handshake, the Info/Configure/Health service that the
// host calls on every plugin, the mapping of a kind's sentinel errors onto
// gRPC status codes and back, and Serve, which runs a plugin process that
// exits by itself when the runtime that started it is gone. ServeInstances
// runs several plugins in one process: each posrt service is registered
// once and routes every call to the instance its posrt-instance gRPC
// metadata names (a call without one reaches the only instance, and is
// refused when there are several).
package base
