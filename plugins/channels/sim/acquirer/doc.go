// Package acqsim is posrt's acquirer host simulator: a TCP server (plain or
// TLS, on loopback) that speaks the China UnionPay-style ISO 8583 of package
// iso8583 as a CUP host does. It checks each request's framing, TPDU,
// message type, terminal and merchant (the TIDs it serves, each with its
// terminal master key), that the terminal signed in, and the MAC in field 64
// under the MAC key it issued at that terminal's last sign-in (ANSI X9.19,
// or the UnionPay ECB MAC); it decrypts the track data under the track key
// and the ISO 9564 format 0 PIN block under the PIN key it issued to decide
// on the test cards of package testcards; it books sales, voids, refunds,
// reversals, settlements and batch uploads in an append-only JSON-lines
// ledger, synced before it answers and replayed when it starts, and shows
// that ledger (Server.Ledger, and GET /ledger on its admin endpoint). Faults
// (a lost, late, garbled, duplicated or wrongly echoed answer, a reset, a
// system error) are injected by configuration or on demand (POST /faults).
// A 0200 sale of a type code other than 22, as a real terminal sends for a
// scanned payment code, is answered 12 under the MAC key, unbooked.
// Besides CUP's messages it answers posrt's private query (0800, 60.3 390),
// which a real CUP host does not know.
package acqsim
