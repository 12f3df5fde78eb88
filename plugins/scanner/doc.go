// Package scanner is the contract of QR / barcode scanner plugins: the
// Scanner interface, its sentinel errors, and the go-plugin gRPC glue.
// ReadCode is one unary call that turns the decoder on if needed and hands
// the next code read to that caller alone, so a single-use payment code
// never reaches two readers.
package scanner
