package printer

import printerpb "github.com/posrt/posrt/plugins/printer/proto"

func documentToProto(d Document) *printerpb.PrintRequest {
	req := &printerpb.PrintRequest{Cut: d.Cut, Lines: make([]*printerpb.Line, len(d.Lines))}
	for i, l := range d.Lines {
		req.Lines[i] = &printerpb.Line{Text: l.Text, Align: string(l.Align), Size: string(l.Size), Bold: l.Bold, Qr: l.QR, Cut: l.Cut}
	}
	return req
}

func documentFromProto(req *printerpb.PrintRequest) Document {
	d := Document{Cut: req.GetCut(), Lines: make([]Line, len(req.GetLines()))}
	for i, l := range req.GetLines() {
		d.Lines[i] = Line{Text: l.GetText(), Align: Align(l.GetAlign()), Size: Size(l.GetSize()), Bold: l.GetBold(), QR: l.GetQr(), Cut: l.GetCut()}
	}
	return d
}
