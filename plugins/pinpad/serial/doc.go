// Package serial is posrt's driver for PIN pads on an RS-232 or USB serial
// line, served by the posrt binary as the built-in plugin "pinpad-serial".
// Driver implements pinpad.PinPad (with the MAC and key-erase methods; its
// ReadCard gives a chip card's sequence number and ICC data) and adds
// master key injection and the beep. It speaks the framed
// protocol of package wire (STX, length, command, data, ETX, LRC; ACK or
// NAK; three tries) over a port opened with go.bug.st/serial; the PIN pad
// holds the keys and does the cryptography, the driver sees only what the
// contract lets posrt see. The protocol is written down in README.md. Its
// tests run it against the simulator of package device over a
// pseudo-terminal.
package serial
