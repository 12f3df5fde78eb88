// Package hid is posrt's driver for keyboard-wedge code scanners read from
// a Linux input event device (/dev/input/by-id/...-event-kbd), served by
// the posrt binary as the built-in plugin "scanner-hid". The driver grabs
// the device with EVIOCGRAB so that the scanner's keystrokes reach posrt
// only and never a console; where the grab is refused (the device is not
// an input device, or another process holds it) it says so in the log and
// in Health and reads on. Events decodes the raw struct input_event stream
// for the machine's word size: EV_KEY presses of KEY_0 to KEY_9, the
// letters, the keypad digits and a few punctuation keys, Shift held for
// capitals, KEY_ENTER ending the code; it goes by key codes, so digits
// come through whatever keyboard layout the console has. A code with a
// key it does not know, or longer than max_length, is logged as a bad
// read and never handed out. Driver implements scanner.Scanner with the
// hand-out rules of the fake, reopening the device when it vanishes.
package hid
