package escpos

import (
	"fmt"

	"github.com/posrt/posrt/plugins/printer"
)

// Real-time status requests DLE EOT n, and the non-real-time GS r 1 the
// driver sends after a job to learn that the printer has processed it.
var (
	StatusPrinter = []byte{DLE, EOT, 1} // printer status
	StatusOffline = []byte{DLE, EOT, 2} // offline cause
	StatusError   = []byte{DLE, EOT, 3} // error cause
	StatusPaper   = []byte{DLE, EOT, 4} // roll paper sensor
	PaperSensor   = []byte{GS, 'r', 1}  // transmit paper sensor status, after the data before it
)

// Bits of the DLE EOT answers. Every answer has bit 1 and bit 4 set and
// bits 0 and 7 clear; a GS r answer has bit 4 clear, which tells them
// apart.
const (
	fixedMask  = 0x93
	fixedValue = 0x12

	printerDrawerPin3 = 0x04 // n=1: drawer kick connector pin 3 is high
	printerOffline    = 0x08 // n=1: offline
	offlineCoverOpen  = 0x04 // n=2: cover open
	offlinePaperEnd   = 0x20 // n=2: printing stopped by the paper end
	errorMechanical   = 0x04 // n=3: recoverable (mechanical) error, a jam
	errorCutter       = 0x08 // n=3: autocutter error
	errorUnrecovered  = 0x20 // n=3: unrecoverable error
	errorAutoRecover  = 0x40 // n=3: automatically recoverable error, the head too hot
	paperNearEnd      = 0x0C // n=4: bits 2-3, the near-end sensor sees no paper
	paperEnd          = 0x60 // n=4: bits 5-6, the end sensor sees no paper
)

// IsStatusReply reports whether b has the fixed bits of a DLE EOT answer.
func IsStatusReply(b byte) bool { return b&fixedMask == fixedValue }

// IsPaperSensorReply reports whether b can be the answer to GS r 1: bits
// 4 and 7 clear.
func IsPaperSensorReply(b byte) bool { return b&0x90 == 0 }

// Level is the level of drawer kick connector pin 3, where the drawer's
// switch is wired, that means the drawer is open. It depends on the
// drawer.
type Level string

// Levels of pin 3.
const (
	LevelHigh Level = "high"
	LevelLow  Level = "low"
)

// Replies are the answers to DLE EOT 1, 2, 3 and 4.
type Replies struct {
	Printer, Offline, Error, Paper byte
}

// Check fails when one of the answers lacks the fixed bits of a DLE EOT
// answer: it came from something else than the printer's real-time
// status.
func (r Replies) Check() error {
	for i, b := range []byte{r.Printer, r.Offline, r.Error, r.Paper} {
		if !IsStatusReply(b) {
			return fmt.Errorf("answer 0x%02X to DLE EOT %d is no status byte", b, i+1)
		}
	}
	return nil
}

// Decode maps the answers to the contract's conditions, in the order of
// printer.Conditions:
//
//   - cover_open: n=2 bit 2;
//   - paper_out: n=2 bit 5 (printing stopped by the paper end) or n=4 bits
//     5-6 (the end sensor sees no paper);
//   - paper_near_end: n=4 bits 2-3, unless the paper is out;
//   - paper_jam: n=3 bit 2 (recoverable mechanical error) or bit 3
//     (autocutter error);
//   - head_overheat: n=3 bit 6 (automatically recoverable error) with the
//     cover closed (some printers set it too when the cover opens while
//     printing);
//   - offline: n=3 bit 5 (unrecoverable error), or n=1 bit 3 (offline)
//     with none of the causes above, such as paper fed with the FEED
//     button;
//   - drawer_open: n=1 bit 2 (pin 3 high) when open is LevelHigh, its
//     absence when open is LevelLow.
func (r Replies) Decode(open Level) printer.Status {
	has := map[printer.Condition]bool{
		printer.ConditionCoverOpen:    r.Offline&offlineCoverOpen != 0,
		printer.ConditionPaperOut:     r.Offline&offlinePaperEnd != 0 || r.Paper&paperEnd != 0,
		printer.ConditionPaperJam:     r.Error&(errorMechanical|errorCutter) != 0,
		printer.ConditionHeadOverheat: r.Error&errorAutoRecover != 0 && r.Offline&offlineCoverOpen == 0,
		printer.ConditionDrawerOpen:   (r.Printer&printerDrawerPin3 != 0) == (open != LevelLow),
	}
	has[printer.ConditionPaperNearEnd] = r.Paper&paperNearEnd != 0 && !has[printer.ConditionPaperOut]
	explained := has[printer.ConditionCoverOpen] || has[printer.ConditionPaperOut] || has[printer.ConditionPaperJam] || has[printer.ConditionHeadOverheat]
	has[printer.ConditionOffline] = r.Error&errorUnrecovered != 0 || r.Printer&printerOffline != 0 && !explained
	var st printer.Status
	for _, c := range printer.Conditions {
		if has[c] {
			st.Conditions = append(st.Conditions, c)
		}
	}
	return st
}
