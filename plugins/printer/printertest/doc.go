// Package printertest is the conformance suite of the printer kind:
// RunConformance drives any printer.Printer through real gRPC; the fake and
// every real driver must pass it.
package printertest
