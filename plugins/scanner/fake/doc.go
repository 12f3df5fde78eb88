// Package fake is the built-in QR / barcode scanner, served by the posrt
// binary as a real plugin process (posrt plugin serve fake-scanner). Fake
// reads the codes listed in its configuration one per interval while it is
// enabled, and any code a test hands to Read, and hands each to exactly one
// ReadCode, the longest waiting first; codes read while it is disabled are
// dropped, as a real scanner's decoder is off then. Other
// configuration keys (listed in the kind's README) set the symbology, a
// missing device, latency and a crash. It links no testing package.
package fake
