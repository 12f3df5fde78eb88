// Package scannertest holds the test double of the scanner kind and its
// conformance suite. Fake is an in-memory QR / barcode scanner: it reads the
// codes listed in its configuration one per interval while it is enabled,
// and any code a test hands to Read, and delivers each scan to every Scans
// subscriber; codes read while it is disabled are dropped, as a real
// scanner's decoder is off then. Scans read while enabled but before anyone
// subscribed wait for the first subscriber (a few at most) and are dropped
// by Disable. Other configuration keys (listed in the kind's README) set
// the symbology, a missing device, latency and a crash. RunConformance
// drives any scanner.Scanner through real gRPC; the fake and every real
// driver must pass it.
package scannertest
