package flow

import (
	"strings"

	"github.com/posrt/posrt/plugins/printer"
)

// Document is a receipt as a flow builds it (posrt.printer.print's lines):
// the flows' own type, which the runtime turns into the printer
// contract's document when it prints, so that a flow's receipts do not
// change with a printer plugin's contract and cross to a flow worker in
// a compact form.
type Document struct {
	Lines []Line `json:"lines"`
	// Cut cuts the paper after the last line.
	Cut bool `json:"cut,omitempty"`
}

// Line is one line of a Document. Align is left (the default), center or
// right; Size normal (the default), double_width, double_height or
// double; QR prints its text as a QR code; Cut cuts the paper after it.
type Line struct {
	Text  string `json:"text,omitempty"`
	Align string `json:"align,omitempty"`
	Size  string `json:"size,omitempty"`
	Bold  bool   `json:"bold,omitempty"`
	QR    string `json:"qr,omitempty"`
	Cut   bool   `json:"cut,omitempty"`
}

// Printer returns d as the printer contract's document.
func (d Document) Printer() printer.Document {
	out := printer.Document{Cut: d.Cut, Lines: make([]printer.Line, len(d.Lines))}
	for i, l := range d.Lines {
		pl := printer.Line{Text: l.Text, Align: printer.Align(l.Align), Size: printer.Size(l.Size), Bold: l.Bold, QR: l.QR, Cut: l.Cut}
		if pl.Align == "" {
			pl.Align = printer.AlignLeft
		}
		if pl.Size == "" {
			pl.Size = printer.SizeNormal
		}
		out.Lines[i] = pl
	}
	return out
}

// DuplicateMark is the line atop each copy of a receipt printed again.
const DuplicateMark = "DUPLICATE 重打印"

// AsDuplicate returns d with each of its copies (the lines up to a cut)
// marked DUPLICATE at its top, unless the copy says DUPLICATE already:
// the runtime prints a receipt again only so, whatever template built it.
func (d Document) AsDuplicate() Document {
	out := Document{Cut: d.Cut, Lines: make([]Line, 0, len(d.Lines)+2)}
	start := 0
	copyOf := func(end int) {
		marked := false
		for _, l := range d.Lines[start:end] {
			marked = marked || strings.Contains(l.Text, "DUPLICATE")
		}
		if !marked {
			out.Lines = append(out.Lines, Line{Text: DuplicateMark, Align: "center", Bold: true})
		}
		out.Lines = append(out.Lines, d.Lines[start:end]...)
		start = end
	}
	for i, l := range d.Lines {
		if l.Cut {
			copyOf(i + 1)
		}
	}
	if start < len(d.Lines) {
		copyOf(len(d.Lines))
	}
	return out
}
