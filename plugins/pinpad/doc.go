// Package pinpad is the contract of PIN-pad plugins (a PIN pad with its card
// reader): the PinPad interface, its sentinel errors, and the go-plugin gRPC
// glue. A PIN pad never hands posrt a clear PIN or clear track data: it
// returns a masked PAN, the track encrypted under the track key, and an
// ISO 9564 PIN block encrypted under the PIN key. It MACs messages under the
// MAC key (ANSI X9.19) without revealing the key, and erases its working keys
// in protection mode; those optional methods are announced as capabilities.
package pinpad
