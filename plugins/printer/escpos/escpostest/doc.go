// Package escpostest is a receipt printer simulator for the escpos
// driver's tests and the printer conformance suite: a device that listens
// on TCP (or serves any byte stream, such as a pty) and parses the ESC/POS
// stream command by command as an Epson-compatible printer does. It keeps
// the lines it printed, decoded from GB18030 in Chinese mode, with their
// alignment, size and bold, the QR codes with their model, module size and
// error level, the raster logos, the cuts and the drawer kicks; it records
// every command it does not know as an error; and it answers DLE EOT and
// GS r from conditions a test sets, which it can also make arise after a
// given number of printed lines, as paper running out mid-receipt. While a
// blocking condition holds it keeps what it receives in its buffer and
// prints it once the condition is cleared, as a printer does; offline it
// answers nothing and loses what it receives. It is test code and is never
// linked into the posrt binary.
package escpostest
