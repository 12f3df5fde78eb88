package printertest

import (
	"context"
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
	// Config is passed to Configure. With it the printer must be ready
	// (status ok) and stay ready through two receipts, with a drawer wired.
	Config map[string]string
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
// and a final cut, and opening the
// drawer. The steps depend on each other; the first failure stops the
// suite.
func RunConformance(t *testing.T, h Harness) {
	if h.New == nil {
		t.Fatal("Harness.New is nil")
	}
	p := Connect(t, h.New(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	basetest.RunBase(t, ctx, p, basetest.Base{Kind: base.KindPrinter, APIVersion: printer.APIVersion1, Config: h.Config})
	status := func(t *testing.T) {
		st, err := p.Status(ctx)
		if err != nil {
			t.Fatalf("Status: %v", err)
		}
		if st != printer.StatusOK {
			t.Errorf("Status = %q, want %q", st, printer.StatusOK)
		}
	}
	basetest.Step(t, "Status", status)
	basetest.Step(t, "Print", func(t *testing.T) {
		if err := p.Print(ctx, ConformanceReceipt()); err != nil {
			t.Fatalf("Print: %v", err)
		}
	})
	basetest.Step(t, "StatusAfterPrint", status)
	basetest.Step(t, "PrintEmptyDocument", func(t *testing.T) {
		if err := p.Print(ctx, printer.Document{Cut: true}); err != nil {
			t.Fatalf("Print of a cut alone: %v", err)
		}
	})
	basetest.Step(t, "OpenDrawer", func(t *testing.T) {
		if err := p.OpenDrawer(ctx); err != nil {
			t.Fatalf("OpenDrawer: %v", err)
		}
	})
}
