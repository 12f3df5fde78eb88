// Package printer is the contract of receipt-printer plugins: the Printer
// interface the runtime calls, its sentinel errors, and the go-plugin gRPC
// glue (Serve on the plugin side, Plugin for the host). Proto types stay in
// this package; the runtime and flows see the plain Go types below.
package printer
