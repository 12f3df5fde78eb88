package printer

import printerpb "github.com/posrt/posrt/plugins/printer/proto"

func jobToProto(j Job) *printerpb.PrintRequest {
	d := &printerpb.Document{Cut: j.Document.Cut, Lines: make([]*printerpb.Line, len(j.Document.Lines))}
	for i, l := range j.Document.Lines {
		d.Lines[i] = &printerpb.Line{Text: l.Text, Align: string(l.Align), Size: string(l.Size), Bold: l.Bold, Qr: l.QR, Cut: l.Cut}
	}
	return &printerpb.PrintRequest{JobId: string(j.ID), Document: d}
}

func jobFromProto(req *printerpb.PrintRequest) Job {
	pd := req.GetDocument()
	d := Document{Cut: pd.GetCut(), Lines: make([]Line, len(pd.GetLines()))}
	for i, l := range pd.GetLines() {
		d.Lines[i] = Line{Text: l.GetText(), Align: Align(l.GetAlign()), Size: Size(l.GetSize()), Bold: l.GetBold(), QR: l.GetQr(), Cut: l.GetCut()}
	}
	return Job{ID: JobID(req.GetJobId()), Document: d}
}

func statusToProto(s Status) *printerpb.StatusResponse {
	r := &printerpb.StatusResponse{Conditions: make([]string, len(s.Conditions))}
	for i, c := range s.Conditions {
		r.Conditions[i] = string(c)
	}
	return r
}

func statusFromProto(r *printerpb.StatusResponse) Status {
	var s Status
	for _, c := range r.GetConditions() {
		s.Conditions = append(s.Conditions, Condition(c))
	}
	return s
}
