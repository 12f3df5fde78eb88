// Package journal is posrt's durable memory of money: every transaction is a
// record in a badger database opened with SyncWrites, keyed by TID + batch +
// trace. Begin allocates the next trace number and syncs the intent to disk
// in one commit before the caller may send anything to a host; Finish
// records the outcome. The trace and batch counters live in the same
// database and never go backwards, also across crashes. Records hold the
// masked PAN only: the journal refuses anything that looks like a clear PAN.
package journal
