// Package fake is the built-in card acquirer, served by the posrt binary as a
// real plugin process (posrt plugin serve fake-acquirer). Fake is a stand-in
// for a China UnionPay-style card acquirer: it signs terminals in with fresh
// working keys wrapped under the TMK, authorizes sales of the test cards
// (track decrypted, PIN block checked, decline codes chosen by amount), and
// books every sale, void, refund, reversal, sign-in and settlement in an
// append-only JSON-lines ledger, synced before it answers, so that a
// restarted plugin process remembers everything and tests can reconcile the
// host's books with the terminal's journal. The ledger keeps masked PANs
// only, never a clear PAN, track, PIN or PIN block, and each terminal's
// session keys only as the terminal received them, encrypted under the TMK
// (a real host keeps its keys in an HSM). It links no testing package.
package fake
