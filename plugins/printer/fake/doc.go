// Package fake is the built-in receipt printer, served by the posrt binary
// as a real plugin process (posrt plugin serve fake-printer). Fake is an
// in-memory receipt printer with a cash drawer: configuration keys (listed
// in the kind's README) set its conditions, how many receipts its paper roll
// holds, whether a drawer is wired to it, latency and a crash. It checks its
// conditions before every job, as the contract asks, so a refused Print
// prints nothing, and prints a retried job ID once. It keeps the last jobs
// it printed (Printed) and the last job IDs in bounded memory, and can
// save every job it prints both ways package render draws receipts:
// appended as 32-column plain text to a file, and as one PNG per job, the
// image a 58 mm thermal printer prints, which is as close to paper as a
// test gets. It links no testing package.
package fake
