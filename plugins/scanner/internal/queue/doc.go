// Package queue holds the hand-out rules every posrt scanner shares, the
// fake and the serial and HID drivers alike: Queue keeps the decoder's
// on/off state, the codes read while it is on and nobody waits (at most
// MaxPending, oldest dropped first), and the ReadCode calls waiting, first
// come first served. Each code put goes to exactly one taker; a taker whose
// context ends just as a code is handed to it gives the code back to the
// front, so no code is lost to a reader that gave up. Disable drops the
// kept codes, and codes put while the decoder is off are dropped.
package queue
