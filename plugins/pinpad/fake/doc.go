// Package fake is the built-in PIN pad, served by the posrt binary as a real
// plugin process (posrt plugin serve fake-pinpad). Fake is an in-memory PIN
// pad: it unwraps working keys under a test terminal master key
// (testcards.TestTMK unless configured), presents one of the test cards,
// encrypts its track under the track key, builds a real ISO 9564 PIN
// block under the PIN key and real ANSI X9.19 MACs under the MAC key, so the
// fake acquirer can verify what it produces; EraseKeys overwrites the clear
// keys with zeros.
// Its behaviour (card, entry mode, right or wrong PIN, cancellation, a
// missing device, latency, a crash) is set by configuration keys listed in
// the kind's README. It keeps clear keys in memory only and never logs or
// returns a clear key, PAN or PIN; the master key it uses is a published
// test key, so nothing it does is secure. It links no testing package.
package fake
