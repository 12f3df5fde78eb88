package fake

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/posrt/posrt/plugins/printer"
)

// Columns is the width of the fake's paper in narrow characters, that of a
// 58 mm receipt printer.
const Columns = 32

// render returns doc as the plain text the fake writes to its output file:
// text wrapped to Columns columns and aligned, a QR code as one row
// "[QR] content", and a line of dashes for each cut. It fails on an alignment or size the
// contract does not know; empty ones mean left and normal.
func render(doc printer.Document) (string, error) {
	var b strings.Builder
	for i, l := range doc.Lines {
		scale := 1
		switch l.Size {
		case "", printer.SizeNormal, printer.SizeDoubleHeight:
		case printer.SizeDoubleWidth, printer.SizeDouble:
			scale = 2
		default:
			return "", fmt.Errorf("line %d: unknown size %q", i+1, l.Size)
		}
		switch l.Align {
		case "", printer.AlignLeft, printer.AlignCenter, printer.AlignRight:
		default:
			return "", fmt.Errorf("line %d: unknown alignment %q", i+1, l.Align)
		}
		if l.Cut {
			b.WriteString(strings.Repeat("-", Columns))
			b.WriteByte('\n')
			continue
		}
		if l.QR != "" {
			// A QR code is one image: one row, never wrapped.
			qr := "[QR] " + l.QR
			b.WriteString(align(cell{qr, width(qr)}, l.Align))
			b.WriteByte('\n')
			continue
		}
		for _, para := range strings.Split(l.Text, "\n") {
			for _, row := range wrap(para, scale) {
				b.WriteString(align(row, l.Align))
				b.WriteByte('\n')
			}
		}
	}
	if doc.Cut {
		b.WriteString(strings.Repeat("-", Columns))
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// cell is one printed row: its text (a double-width character is followed
// by spaces filling its width) and its width in columns.
type cell struct {
	text  string
	width int
}

// wrap breaks text into rows of at most Columns columns, characters being
// scale times their normal width.
func wrap(text string, scale int) []cell {
	var (
		rows []cell
		cur  strings.Builder
		w    int
	)
	for _, r := range text {
		if r == '\r' || (r != ' ' && unicode.IsControl(r)) {
			continue
		}
		rw := runeWidth(r) * scale
		if w+rw > Columns {
			rows = append(rows, cell{cur.String(), w})
			cur.Reset()
			w = 0
		}
		cur.WriteRune(r)
		cur.WriteString(strings.Repeat(" ", rw-runeWidth(r)))
		w += rw
	}
	return append(rows, cell{cur.String(), w})
}

func align(c cell, a printer.Align) string {
	pad := 0
	switch a {
	case printer.AlignCenter:
		pad = (Columns - c.width) / 2
	case printer.AlignRight:
		pad = Columns - c.width
	}
	return strings.TrimRight(strings.Repeat(" ", max(pad, 0))+c.text, " ")
}

func width(s string) int {
	w := 0
	for _, r := range s {
		w += runeWidth(r)
	}
	return w
}

// runeWidth is 2 for the full-width characters of Chinese, Japanese and
// Korean text and 1 for others, as a receipt printer's font has them.
func runeWidth(r rune) int {
	switch {
	case unicode.In(r, unicode.Han, unicode.Hangul, unicode.Hiragana, unicode.Katakana),
		r >= 0x3000 && r <= 0x303F, // CJK punctuation
		r >= 0xFF01 && r <= 0xFF60, // full-width forms
		r >= 0xFFE0 && r <= 0xFFE6: // full-width signs, such as ￥
		return 2
	}
	return 1
}
