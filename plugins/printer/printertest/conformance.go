package printertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/printer"
)

// Harness describes a printer implementation to RunConformance.
type Harness struct {
	// New returns a fresh implementation. It is called once.
	New func(t *testing.T) printer.Printer
	// Config is passed to Configure. With it the printer must be ready (no
	// condition) and stay ready through the receipts the suite prints, with
	// a drawer wired.
	Config map[string]string
	// SetConditions makes the device under test report exactly conds, as
	// if its cover were opened or its paper taken out; none makes it ready
	// again (for the Fake: its SetConditions method).
	SetConditions func(impl printer.Printer, conds ...printer.Condition)
	// Printed returns how many jobs the device under test has printed on
	// paper so far (for the Fake: its Receipts method).
	Printed func(impl printer.Printer) int
}

// Connect serves impl through real go-plugin gRPC in this process and
// returns the host-side client. Both ends are closed when t ends.
func Connect(t testing.TB, impl printer.Printer) printer.Printer {
	t.Helper()
	return basetest.Connect[printer.Printer](t, base.KindPrinter, printer.NewPlugin(impl))
}

// ConformanceReceipt is the document RunConformance prints: a line of each
// alignment and each size, bold text, Chinese text, a QR code and a cut.
func ConformanceReceipt() printer.Document {
	return printer.Document{Lines: []printer.Line{
		{Text: "POSRT", Align: printer.AlignCenter, Size: printer.SizeDouble, Bold: true},
		{Text: "MERCHANT COPY 商户存根", Align: printer.AlignCenter, Size: printer.SizeDoubleHeight},
		{Text: "TID 10000001  MID 898310048990001", Align: printer.AlignLeft, Size: printer.SizeNormal},
		{Text: "SALE", Align: printer.AlignLeft, Size: printer.SizeDoubleWidth, Bold: true},
		{Text: "AMOUNT: 123.45 yuan", Align: printer.AlignRight, Size: printer.SizeNormal},
		{QR: "https://example.com/r/000001000002", Align: printer.AlignCenter},
		{Cut: true},
		{Text: "CARDHOLDER COPY 持卡人存根", Align: printer.AlignCenter},
	}, Cut: true}
}

// RunConformance checks that a printer implementation keeps the
// printer.Printer contract, talking to it only through gRPC as the runtime
// does: Info, API version negotiation, Health, Status, printing a receipt
// that uses every alignment and size, a QR code, a cut between two copies
// and a final cut; a retried job ID printing once and a job without an ID
// refused; several conditions reported at once, paper near end still
// printing, each blocking condition refusing with its sentinel and
// printing nothing, a refused job printing once the condition is cleared;
// and opening the drawer. The steps depend on each other; the first
// failure stops the suite.
func RunConformance(t *testing.T, h Harness) {
	if h.New == nil || h.SetConditions == nil || h.Printed == nil {
		t.Fatal("Harness.New, Harness.SetConditions or Harness.Printed is nil")
	}
	impl := h.New(t)
	p := Connect(t, impl)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	basetest.RunBase(t, ctx, p, basetest.Base{Kind: base.KindPrinter, APIVersion: printer.APIVersion1, Config: h.Config})
	status := func(t *testing.T) printer.Status {
		t.Helper()
		st, err := p.Status(ctx)
		if err != nil {
			t.Fatalf("Status: %v", err)
		}
		for _, c := range st.Conditions {
			if !c.Known() {
				t.Errorf("Status reports %q, which the contract does not know", c)
			}
		}
		return st
	}
	ready := func(t *testing.T) {
		t.Helper()
		if st := status(t); !st.Ready() || len(st.Conditions) != 0 {
			t.Errorf("Status = %v, want ready with no condition", st.Conditions)
		}
	}
	// printOnce prints job and checks it printed exactly want more jobs.
	printOnce := func(t *testing.T, job printer.Job, want int) {
		t.Helper()
		before := h.Printed(impl)
		if err := p.Print(ctx, job); err != nil {
			t.Fatalf("Print(%s): %v", job.ID, err)
		}
		if n := h.Printed(impl) - before; n != want {
			t.Fatalf("Print(%s) printed %d jobs, want %d", job.ID, n, want)
		}
	}
	// refused prints job under a condition and checks it fails with want
	// and prints nothing.
	refused := func(t *testing.T, job printer.Job, want error) {
		t.Helper()
		before := h.Printed(impl)
		if err := p.Print(ctx, job); !errors.Is(err, want) {
			t.Errorf("Print(%s): err = %v, want %v", job.ID, err, want)
		}
		if n := h.Printed(impl) - before; n != 0 {
			t.Errorf("Print(%s) printed %d jobs after it was refused", job.ID, n)
		}
	}
	receipt := printer.Job{ID: "10000001/000001/000001/merchant-copy", Document: ConformanceReceipt()}
	slip := func(id printer.JobID) printer.Job {
		return printer.Job{ID: id, Document: printer.Document{Lines: []printer.Line{{Text: "SLIP " + string(id)}}, Cut: true}}
	}

	basetest.Step(t, "Status", ready)
	basetest.Step(t, "Print", func(t *testing.T) { printOnce(t, receipt, 1) })
	basetest.Step(t, "StatusAfterPrint", ready)
	basetest.Step(t, "RetriedJobPrintsOnce", func(t *testing.T) { printOnce(t, receipt, 0) })
	basetest.Step(t, "JobWithoutIDRefused", func(t *testing.T) { refused(t, slip(""), printer.ErrBadJob) })
	basetest.Step(t, "PrintEmptyDocument", func(t *testing.T) {
		printOnce(t, printer.Job{ID: "conformance/cut-alone", Document: printer.Document{Cut: true}}, 1)
	})
	basetest.Step(t, "SeveralConditionsAtOnce", func(t *testing.T) {
		h.SetConditions(impl, printer.ConditionPaperNearEnd, printer.ConditionCoverOpen)
		st := status(t)
		if !st.Has(printer.ConditionPaperNearEnd) || !st.Has(printer.ConditionCoverOpen) || len(st.Conditions) != 2 {
			t.Fatalf("Status = %v, want paper_near_end and cover_open", st.Conditions)
		}
		if st.Ready() {
			t.Errorf("Status %v is ready with the cover open", st.Conditions)
		}
		refused(t, slip("conformance/near-end-cover-open"), printer.ErrCoverOpen)
	})
	basetest.Step(t, "PaperNearEndStillPrints", func(t *testing.T) {
		h.SetConditions(impl, printer.ConditionPaperNearEnd)
		if st := status(t); !st.Ready() || !st.Has(printer.ConditionPaperNearEnd) || len(st.Conditions) != 1 {
			t.Fatalf("Status = %v, want paper_near_end alone, ready", st.Conditions)
		}
		printOnce(t, slip("conformance/near-end"), 1)
	})
	for _, tc := range []struct {
		cond printer.Condition
		want error
	}{
		{printer.ConditionPaperOut, printer.ErrPaperOut},
		{printer.ConditionCoverOpen, printer.ErrCoverOpen},
		{printer.ConditionPaperJam, printer.ErrPaperJam},
		{printer.ConditionHeadOverheat, printer.ErrHeadOverheat},
		{printer.ConditionOffline, printer.ErrOffline},
	} {
		basetest.Step(t, "Refuses_"+string(tc.cond), func(t *testing.T) {
			h.SetConditions(impl, tc.cond)
			st := status(t)
			if !st.Has(tc.cond) || st.Ready() {
				t.Fatalf("Status = %v, want %s, not ready", st.Conditions, tc.cond)
			}
			refused(t, slip(printer.JobID("conformance/refused/"+string(tc.cond))), tc.want)
		})
	}
	basetest.Step(t, "RefusedJobPrintsWhenCleared", func(t *testing.T) {
		before := h.Printed(impl)
		h.SetConditions(impl)
		ready(t)
		// A printer that kept a refused job and prints it once the
		// condition clears would print it again at the runtime's retry.
		if n := h.Printed(impl) - before; n != 0 {
			t.Fatalf("clearing the condition printed %d refused jobs nobody asked for again", n)
		}
		printOnce(t, slip("conformance/refused/"+printer.JobID(printer.ConditionPaperOut)), 1)
		printOnce(t, slip("conformance/near-end-cover-open"), 1)
	})
	basetest.Step(t, "OpenDrawer", func(t *testing.T) {
		if err := p.OpenDrawer(ctx); err != nil {
			t.Fatalf("OpenDrawer: %v", err)
		}
	})
}
