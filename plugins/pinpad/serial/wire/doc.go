// Package wire is the framed serial protocol posrt's serial PIN pad driver
// (plugins/pinpad/serial) and its device simulator (plugins/pinpad/serial/
// device) speak: frames of STX, a 2-byte big-endian length, a command byte,
// data, ETX and an LRC (the XOR of every byte from the length to ETX), each
// answered by ACK or NAK; the data of a frame is a list of fields, each a
// tag byte, a 2-byte length and a value. Link sends a frame, resends it when
// the receiver NAKs it or does not answer within a timeout, up to three
// tries, and reads frames and link bytes from the other end. The protocol
// is written down in plugins/pinpad/serial/README.md.
package wire
