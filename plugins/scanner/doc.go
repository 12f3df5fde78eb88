// Package scanner is the contract of QR / barcode scanner plugins: the
// Scanner interface, its sentinel errors, and the go-plugin gRPC glue. Scans
// arrive as a server stream while the scanner is enabled.
package scanner
