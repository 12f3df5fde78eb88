// Package acquirer is posrt's card acquirer channel plugin, served as
// `posrt plugin serve acquirer`: it implements channels.Acquirer in the
// China UnionPay-style ISO 8583 of package iso8583 over TCP (TLS optional)
// to the host its configuration names, one connection a request. The PIN
// pad computes and checks every MAC through channels.Security, so the
// plugin never holds a clear working key; it sends the PIN pad's encrypted
// track and PIN block as they are, and logs nothing. An answer that does
// not unpack or whose trace, terminal or amount does not echo the request
// is no answer (channels.ErrNoAnswer), one whose MAC does not verify is
// channels.ErrBadMAC, and a failure before the request's first byte is
// written is channels.ErrNotSent. Query uses posrt's private 0800 / 390
// message, which only posrt's simulator (package acqsim) answers.
package acquirer
