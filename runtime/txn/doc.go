// Package txn is posrt's money service: it signs the terminal in and loads
// the working keys into the PIN pad, and it runs each online transaction as
// journal, send, journal: the intent is synced to the journal before the
// channel is called, the outcome after. A request without an answer leaves
// its record pending; pending records are reversed before any later online
// transaction goes out, so an unknown outcome is never resolved by sending
// the sale again. One online exchange runs at a time, as on a terminal's
// single host line.
package txn
