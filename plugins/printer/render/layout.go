package render

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/width"

	"github.com/posrt/posrt/plugins/printer"
)

// Columns is the width of a 58 mm receipt printer's paper in narrow
// characters of its 12×24-dot font.
const Columns = 32

// Validate checks that every line of doc has an alignment and a size the
// printer contract knows; empty ones mean left and normal. Text renders
// unknown ones as left and normal; PNG and the fake printer refuse them.
func Validate(doc printer.Document) error {
	for i, l := range doc.Lines {
		switch l.Size {
		case "", printer.SizeNormal, printer.SizeDoubleHeight, printer.SizeDoubleWidth, printer.SizeDouble:
		default:
			return fmt.Errorf("line %d: unknown size %q", i+1, l.Size)
		}
		switch l.Align {
		case "", printer.AlignLeft, printer.AlignCenter, printer.AlignRight:
		default:
			return fmt.Errorf("line %d: unknown alignment %q", i+1, l.Align)
		}
	}
	return nil
}

// scale returns how many times wider and higher than normal a line's
// characters print.
func scale(s printer.Size) (sx, sy int) {
	switch s {
	case printer.SizeDoubleWidth:
		return 2, 1
	case printer.SizeDoubleHeight:
		return 1, 2
	case printer.SizeDouble:
		return 2, 2
	}
	return 1, 1
}

// row is one printed row of text: its characters and its width in
// columns, each character being runeWidth times the line's width scale.
type row struct {
	runes []rune
	cols  int
}

// wrap breaks a line's text into rows of at most columns columns, each
// character taking sx times its normal width. Each "\n" starts a new row;
// carriage returns and other control characters but the space are left
// out, so a text can never move the paper or the print head.
func wrap(text string, columns, sx int) []row {
	var rows []row
	for _, para := range strings.Split(text, "\n") {
		var cur row
		for _, r := range para {
			if r == '\r' || (r != ' ' && unicode.IsControl(r)) {
				continue
			}
			rw := runeWidth(r) * sx
			if cur.cols+rw > columns && len(cur.runes) > 0 {
				rows = append(rows, cur)
				cur = row{}
			}
			cur.runes = append(cur.runes, r)
			cur.cols += rw
		}
		rows = append(rows, cur)
	}
	return rows
}

// pad is how far an aligned item of size wide is set in from the left of
// a line room wide (columns or dots).
func pad(a printer.Align, wide, room int) int {
	switch a {
	case printer.AlignCenter:
		return max((room-wide)/2, 0)
	case printer.AlignRight:
		return max(room-wide, 0)
	}
	return 0
}

// runeWidth is 2 for the wide and full-width characters of East Asian
// text (Unicode's East Asian Width W and F: Chinese, Japanese and Korean
// characters, CJK punctuation, full-width forms such as ￥) and 1 for
// others, as a receipt printer's font has them.
func runeWidth(r rune) int {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}
