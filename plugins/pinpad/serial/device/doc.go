// Package device is a simulated serial PIN pad: the device side of the
// protocol plugins/pinpad/serial speaks (package wire), served on a line
// such as a pseudo-terminal's master. Like a real PIN pad it holds the
// terminal master key (injected with the load-master-key command, or set at
// the factory in Config), unwraps the working keys under it and refuses a
// key whose check value does not match, builds ISO 9564 format 0 PIN blocks
// under the PIN key from the PIN its keypad is configured to enter, MACs
// (ANSI X9.19) under the MAC key, encrypts the track under the track key and
// erases its working keys on command; the cryptography is cardcrypto's. It
// presents one configured test card, with a card sequence number and EMV
// ICC data when the card is inserted or tapped. posrt's tests use it; it
// does not import "testing".
package device
