// Package reconcile is the wallet plugins' part of a settlement done by
// queries: Orders remembers, in the plugin's process only, the order
// numbers (and refund numbers) the plugin sent, and Lookup.Run checks one
// batch of the terminal against the wallet's answers to its order and
// refund queries, with the rules every wallet shares.
package reconcile
