package render

import (
	"strings"
	"testing"

	"github.com/posrt/posrt/plugins/printer"
)

func TestTextReceipt(t *testing.T) {
	doc := printer.Document{Cut: true, Lines: []printer.Line{
		{Text: "消费 SALE", Align: printer.AlignCenter, Size: printer.SizeDouble, Bold: true},
		{Text: "签购单", Align: printer.AlignRight},
		{Text: "AMOUNT RMB 12.34", Size: printer.SizeDoubleHeight, Bold: true},
		{Text: "ABCDEFGHIJKLMNOPQRSTUVWXYZ12345谢"},
		{QR: "P10000001000001000123", Align: printer.AlignCenter, Text: "ignored"},
		{Cut: true},
		{Text: "DUPLICATE 重打印", Align: printer.AlignCenter, Bold: true},
	}}
	// Columns: "12345678901234567890123456789012"
	want := "" +
		"       消  费    S A L E\n" +
		"                          签购单\n" +
		"AMOUNT RMB 12.34\n" +
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ12345\n" +
		"谢\n" +
		"   [QR] P10000001000001000123\n" +
		"--------------------------------\n" +
		"        DUPLICATE 重打印\n" +
		"--------------------------------\n"
	if got := Text(doc, Columns); got != want {
		t.Errorf("Text:\n%s\nwant:\n%s", got, want)
	}
	if got := Text(doc, 0); got != want {
		t.Errorf("Text with 0 columns is not that of %d columns:\n%s", Columns, got)
	}
}

func TestTextLines(t *testing.T) {
	for _, tc := range []struct {
		name    string
		line    printer.Line
		columns int
		want    string
	}{
		{"empty", printer.Line{}, 32, "\n"},
		{"left by default", printer.Line{Text: "abc"}, 32, "abc\n"},
		{"center", printer.Line{Text: "ab", Align: printer.AlignCenter}, 32, strings.Repeat(" ", 15) + "ab\n"},
		{"right", printer.Line{Text: "ab", Align: printer.AlignRight}, 32, strings.Repeat(" ", 30) + "ab\n"},
		{"42 columns", printer.Line{Text: "消费", Align: printer.AlignRight}, 42, strings.Repeat(" ", 38) + "消费\n"},
		{"double width right", printer.Line{Text: "ab", Align: printer.AlignRight, Size: printer.SizeDouble}, 32, strings.Repeat(" ", 28) + "a b\n"},
		{"double height is one row", printer.Line{Text: "ab", Size: printer.SizeDoubleHeight}, 32, "ab\n"},
		{"wide characters", printer.Line{Text: "消费", Align: printer.AlignRight}, 32, strings.Repeat(" ", 28) + "消费\n"},
		{"full-width yuan sign", printer.Line{Text: "￥1", Align: printer.AlignRight}, 32, strings.Repeat(" ", 29) + "￥1\n"},
		{"wrap", printer.Line{Text: strings.Repeat("x", 33)}, 32, strings.Repeat("x", 32) + "\nx\n"},
		{"wrap double width", printer.Line{Text: strings.Repeat("x", 17), Size: printer.SizeDoubleWidth}, 32, strings.TrimSpace(strings.Repeat("x ", 16)) + "\nx\n"},
		{"wrap wide characters", printer.Line{Text: strings.Repeat("元", 17)}, 32, strings.Repeat("元", 16) + "\n元\n"},
		{"newline", printer.Line{Text: "a\nb", Align: printer.AlignRight}, 32, strings.Repeat(" ", 31) + "a\n" + strings.Repeat(" ", 31) + "b\n"},
		{"control characters left out", printer.Line{Text: "a\x1b@\tb\r"}, 32, "a@b\n"},
		{"qr", printer.Line{QR: "62000000", Size: printer.SizeDouble, Text: "ignored"}, 32, "[QR] 62000000\n"},
		{"qr centred", printer.Line{QR: "62000000", Align: printer.AlignCenter}, 32, strings.Repeat(" ", 9) + "[QR] 62000000\n"},
		{"long qr is one row", printer.Line{QR: strings.Repeat("9", 40), Align: printer.AlignRight}, 32, "[QR] " + strings.Repeat("9", 40) + "\n"},
		{"cut line", printer.Line{Cut: true, Text: "ignored"}, 32, strings.Repeat("-", 32) + "\n"},
		{"unknown alignment is left", printer.Line{Text: "ab", Align: "middle"}, 32, "ab\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Text(printer.Document{Lines: []printer.Line{tc.line}}, tc.columns); got != tc.want {
				t.Errorf("Text = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	good := printer.Document{Lines: []printer.Line{{Text: "a"}, {Text: "b", Align: printer.AlignRight, Size: printer.SizeDouble}, {QR: "x"}, {Cut: true}}}
	if err := Validate(good); err != nil {
		t.Errorf("Validate(good) = %v", err)
	}
	for _, l := range []printer.Line{{Text: "x", Align: "middle"}, {Text: "x", Size: "huge"}} {
		err := Validate(printer.Document{Lines: []printer.Line{{Text: "fine"}, l}})
		if err == nil || !strings.HasPrefix(err.Error(), "line 2: unknown") {
			t.Errorf("Validate(%+v) = %v, want an error naming line 2", l, err)
		}
	}
}
