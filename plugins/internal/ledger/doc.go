// Package ledger is the append-only JSON-lines ledger the fake hosts (the
// fake acquirer and the fake wallets) book every event in before they
// answer: each entry is synced before Append returns, the file is replayed
// on open to rebuild the host's state, and a torn last line left by a crash
// in the middle of an append is cut off.
package ledger
