// Package fake is the built-in receipt printer, served by the posrt binary
// as a real plugin process (posrt plugin serve fake-printer). Fake is an
// in-memory receipt printer with a cash drawer: configuration keys (listed
// in the kind's README) set its status, how many receipts its paper roll
// holds, whether a drawer is wired to it, latency and a crash. It checks its
// status before every receipt, as the contract asks, so a failed Print
// prints nothing; it keeps the documents it printed (Printed) and can append
// each as 32-column plain text to a file, which is as close to paper as a
// test gets. It links no testing package.
package fake
