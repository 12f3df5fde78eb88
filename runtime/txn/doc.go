// Package txn is posrt's operation engine: every money operation (card and
// wallet sale, void, refund, cash entry) and the sign-in runs through one
// path. A front end's Operation is validated and journaled (Begin, synced,
// before any byte leaves); the flow bound to it supplies references only
// and calls Execute once, which signs in if the day has none, resolves what
// the operation's channel left pending, sends, classifies the answer (not
// sent, no answer, bad MAC, host answer) and journals the outcome. An
// unknown outcome is resolved by its channel's resolver, never by sending a
// sale again: a card is reversed (0400, same trace, reason 98 / A0 / 06); a
// wallet is queried, polled while its customer is paying, then cancelled.
// Failed reversals back off and are never dropped; after Policy's number
// of failures the record is flagged and its channel refuses online
// operations until the host acknowledges it or a supervisor resolves it by
// hand. A Registry routes each medium to its channel: one acquirer, any
// number of wallets. One online exchange runs at a time.
package txn
