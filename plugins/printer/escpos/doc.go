// Package escpos is posrt's driver for ESC/POS receipt printers (Epson
// and the many compatible Chinese models), served by the posrt binary as
// the built-in plugin "escpos". Encode turns a printer.Document into the
// ESC/POS stream of one job: text in GB18030 in Chinese mode, alignment,
// bold, double sizes, QR codes with GS ( k, a raster logo from the
// configuration with GS v 0, partial cuts and drawer kicks. Replies
// decodes the answers to the real-time status requests DLE EOT 1 to 4 into
// the contract's conditions. Driver implements printer.Printer over a raw
// TCP port, a device file or a serial line: it asks the status before each
// job and refuses with the first blocking condition, sends the job and
// then polls the status until the printer has processed it, so that paper
// running out mid-receipt is reported; it remembers the job IDs it printed,
// in a file under state_dir when configured, so that a retried job prints
// once even across a plugin restart. Its tests run it against the device
// simulator in escpostest, byte for byte.
package escpos
