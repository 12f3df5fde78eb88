package render

import (
	"strings"

	"github.com/posrt/posrt/plugins/printer"
)

// Text returns doc as a receipt printer columns wide (Columns when columns
// is 0 or less) lays it out, one string line per printed row: text wrapped
// and aligned, a wide character taking two columns and a double-width
// one twice its width (a character followed by spaces filling the width
// it takes), double height taking one row; a QR code as one row
// "[QR] content", aligned but never wrapped, whatever the line's text and
// size; and a row of dashes for each cut (a cut line, and the document's
// final cut). Trailing spaces are trimmed. An alignment or size the
// contract does not know is taken as left or normal (Validate reports
// them).
func Text(doc printer.Document, columns int) string {
	if columns <= 0 {
		columns = Columns
	}
	var b strings.Builder
	line := func(s string) {
		b.WriteString(strings.TrimRight(s, " "))
		b.WriteByte('\n')
	}
	for _, l := range doc.Lines {
		switch {
		case l.Cut:
			line(strings.Repeat("-", columns))
		case l.QR != "":
			qr := "[QR] " + l.QR
			line(strings.Repeat(" ", pad(l.Align, textWidth(qr), columns)) + qr)
		default:
			sx, _ := scale(l.Size)
			for _, r := range wrap(l.Text, columns, sx) {
				var s strings.Builder
				s.WriteString(strings.Repeat(" ", pad(l.Align, r.cols, columns)))
				for _, c := range r.runes {
					s.WriteRune(c)
					s.WriteString(strings.Repeat(" ", runeWidth(c)*(sx-1)))
				}
				line(s.String())
			}
		}
	}
	if doc.Cut {
		line(strings.Repeat("-", columns))
	}
	return b.String()
}

// textWidth is the width of s in columns.
func textWidth(s string) int {
	w := 0
	for _, r := range s {
		w += runeWidth(r)
	}
	return w
}
