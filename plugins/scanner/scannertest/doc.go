// Package scannertest is the conformance suite of the scanner kind:
// RunConformance drives any scanner.Scanner through real gRPC; the fake and
// every real driver must pass it.
package scannertest
