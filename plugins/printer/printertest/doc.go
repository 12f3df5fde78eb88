// Package printertest holds the test double of the printer kind and its
// conformance suite. Fake is an in-memory receipt printer with a cash
// drawer: configuration keys (listed in the kind's README) set its status,
// how many receipts its paper roll holds, whether a drawer is wired to it,
// latency and a crash. It checks its status before every receipt, as the
// contract asks, so a failed Print prints nothing; it keeps every document
// it printed (Printed) and can append each as 32-column plain text to a
// file, which is as close to paper as a test gets. RunConformance drives any
// printer.Printer through real gRPC; the fake and every real driver must
// pass it.
package printertest
