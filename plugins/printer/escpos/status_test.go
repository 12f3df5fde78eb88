package escpos

import (
	"slices"
	"testing"

	"github.com/posrt/posrt/plugins/printer"
)

// Each case sets one bit (or bit pair) of one DLE EOT answer, from the
// tables of the "DLE EOT Transmit real-time status" page: 0x12 is an
// answer with only its fixed bits (1 and 4) set.
func TestDecodeEachBit(t *testing.T) {
	const idle = 0x12
	ready := Replies{Printer: idle, Offline: idle, Error: idle, Paper: idle}
	with := func(f func(*Replies)) Replies { r := ready; f(&r); return r }
	for _, tc := range []struct {
		name string
		r    Replies
		open Level
		want []printer.Condition
	}{
		{"ready", ready, LevelHigh, nil},
		{"n=1 bit 2: pin 3 high, drawer open when high", with(func(r *Replies) { r.Printer |= 0x04 }), LevelHigh, []printer.Condition{printer.ConditionDrawerOpen}},
		{"n=1 bit 2: pin 3 high, drawer closed when low", with(func(r *Replies) { r.Printer |= 0x04 }), LevelLow, nil},
		{"n=1 bit 2 clear: pin 3 low, drawer open when low", ready, LevelLow, []printer.Condition{printer.ConditionDrawerOpen}},
		{"n=1 bit 3: offline, no cause", with(func(r *Replies) { r.Printer |= 0x08 }), LevelHigh, []printer.Condition{printer.ConditionOffline}},
		{"n=1 bit 3 and n=2 bit 3: FEED button", with(func(r *Replies) { r.Printer |= 0x08; r.Offline |= 0x08 }), LevelHigh, []printer.Condition{printer.ConditionOffline}},
		{"n=2 bit 2: cover open", with(func(r *Replies) { r.Printer |= 0x08; r.Offline |= 0x04 }), LevelHigh, []printer.Condition{printer.ConditionCoverOpen}},
		{"n=2 bit 5: stopped by paper end", with(func(r *Replies) { r.Printer |= 0x08; r.Offline |= 0x20 }), LevelHigh, []printer.Condition{printer.ConditionPaperOut}},
		{"n=2 bit 6 alone: error, cause unknown", with(func(r *Replies) { r.Printer |= 0x08; r.Offline |= 0x40 }), LevelHigh, []printer.Condition{printer.ConditionOffline}},
		{"n=3 bit 2: recoverable mechanical error", with(func(r *Replies) { r.Printer |= 0x08; r.Offline |= 0x40; r.Error |= 0x04 }), LevelHigh, []printer.Condition{printer.ConditionPaperJam}},
		{"n=3 bit 3: autocutter error", with(func(r *Replies) { r.Printer |= 0x08; r.Offline |= 0x40; r.Error |= 0x08 }), LevelHigh, []printer.Condition{printer.ConditionPaperJam}},
		{"n=3 bit 5: unrecoverable error", with(func(r *Replies) { r.Printer |= 0x08; r.Offline |= 0x40; r.Error |= 0x20 }), LevelHigh, []printer.Condition{printer.ConditionOffline}},
		{"n=3 bit 6: head too hot", with(func(r *Replies) { r.Printer |= 0x08; r.Offline |= 0x40; r.Error |= 0x40 }), LevelHigh, []printer.Condition{printer.ConditionHeadOverheat}},
		{"n=3 bit 6 with the cover open: the cover", with(func(r *Replies) { r.Printer |= 0x08; r.Offline |= 0x44; r.Error |= 0x40 }), LevelHigh, []printer.Condition{printer.ConditionCoverOpen}},
		{"n=4 bits 2-3: near end", with(func(r *Replies) { r.Paper |= 0x0C }), LevelHigh, []printer.Condition{printer.ConditionPaperNearEnd}},
		{"n=4 bits 5-6: paper end (near end too)", with(func(r *Replies) { r.Printer |= 0x08; r.Paper |= 0x6C }), LevelHigh, []printer.Condition{printer.ConditionPaperOut}},
		{"several at once, contract order", with(func(r *Replies) { r.Printer |= 0x0C; r.Offline |= 0x04; r.Paper |= 0x0C }), LevelHigh,
			[]printer.Condition{printer.ConditionCoverOpen, printer.ConditionPaperNearEnd, printer.ConditionDrawerOpen}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.r.Check(); err != nil {
				t.Fatalf("Check: %v", err)
			}
			if got := tc.r.Decode(tc.open).Conditions; !slices.Equal(got, tc.want) {
				t.Errorf("Decode(%+v) = %v, want %v", tc.r, got, tc.want)
			}
		})
	}
}

func TestReplyKinds(t *testing.T) {
	for _, b := range []byte{0x12, 0x16, 0x1E, 0x72, 0x7E} {
		if !IsStatusReply(b) || IsPaperSensorReply(b) {
			t.Errorf("0x%02X: want a DLE EOT answer", b)
		}
	}
	for _, b := range []byte{0x00, 0x03, 0x0C, 0x0F} {
		if IsStatusReply(b) || !IsPaperSensorReply(b) {
			t.Errorf("0x%02X: want a GS r answer", b)
		}
	}
	for _, b := range []byte{0x13, 0x92, 0x41, 0x10} { // a fixed bit wrong
		if IsStatusReply(b) {
			t.Errorf("0x%02X taken for a DLE EOT answer", b)
		}
	}
	if err := (Replies{Printer: 0x12, Offline: 0x12, Error: 0x41, Paper: 0x12}).Check(); err == nil {
		t.Error("Check accepted 0x41 as the answer to DLE EOT 3")
	}
}
