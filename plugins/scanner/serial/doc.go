// Package serial is posrt's driver for USB-CDC and RS-232 code scanners,
// served by the posrt binary as the built-in plugin "scanner-serial". Such
// a scanner sends each code it decodes as one line ending in a terminator
// (CR, LF or CR LF). Lines decodes that byte stream: it strips a configured
// prefix and suffix, and refuses a line longer than max_length, one with a
// control character other than the terminator, one that is not UTF-8, or
// one missing its prefix or suffix; a refused line is logged as a bad read
// and never handed out. Driver implements scanner.Scanner over a serial
// port opened with go.bug.st/serial, with the hand-out rules of the fake
// (package internal/queue): when the port fails or vanishes it is opened
// again every reconnect interval, Health says offline meanwhile and
// ReadCode calls keep waiting. Its tests run it over a pseudo-terminal.
package serial
