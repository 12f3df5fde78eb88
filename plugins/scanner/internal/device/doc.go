// Package device is the part the serial and HID scanner drivers share
// beyond the hand-out rules of package queue: Scanner keeps one device
// open in a goroutine, reads it through the driver's decoder and puts each
// code decoded into its queue, logs each bad read (never handing it out),
// and when the device fails or vanishes closes it and opens it again every
// retry interval, reporting offline in Health meanwhile while ReadCode
// calls keep waiting. Enable, Disable and ReadCode implement the
// scanner.Scanner methods of both drivers.
package device
