// Package channelstest is the conformance suite of the channels kind:
// RunConformance drives any channel implementation through real gRPC as a
// terminal would; the fake and every real channel plugin must pass it.
package channelstest
