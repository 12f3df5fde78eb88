// Package gpio watches the terminal's GPIO pins through periph
// (periph.io/x/host/v3 and periph.io/x/conn/v3): a tamper switch, whose
// edge puts the terminal into protection mode at once, and a cash-drawer
// sensor, whose state shows in the status and which a flow may wait on to
// close. Pins are named as periph's gpioreg knows them (GPIO17, or a
// board's alias), each debounced: a level counts once it has held for the
// debounce time. On a machine without the pins posrt starts all the same
// and says they are absent.
package gpio
