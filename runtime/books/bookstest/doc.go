// Package bookstest builds journal histories for the tests and benchmarks
// of exports and of the journal commands: a settable clock and days of
// card, wallet and cash sales with declines, voids and partial refunds,
// written through the journal's own API and settled at the end of each
// day, as a terminal would have journaled them.
package bookstest
