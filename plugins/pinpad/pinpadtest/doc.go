// Package pinpadtest is the conformance suite of the PIN pad kind:
// RunConformance drives any pinpad.PinPad through real gRPC; the fake and
// every real driver must pass it.
package pinpadtest
