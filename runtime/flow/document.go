package flow

import "github.com/posrt/posrt/plugins/printer"

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
