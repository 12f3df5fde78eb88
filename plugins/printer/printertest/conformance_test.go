package printertest

import (
	"context"
	"testing"

	"github.com/posrt/posrt/plugins/printer/fake"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/printer"
)

// Broken printers RunConformance must fail, each with the step it must
// fail at.
type (
	wrongKind     struct{ *fake.Fake }
	blankStatus   struct{ *fake.Fake }
	rejectsCJK    struct{ *fake.Fake }
	anyAPIVersion struct{ *fake.Fake }
)

func (p wrongKind) Info(ctx context.Context) (base.Info, error) {
	info, err := p.Fake.Info(ctx)
	info.Kind = base.KindScanner
	return info, err
}

func (p blankStatus) Status(context.Context) (printer.Status, error) { return "", nil }

func (p rejectsCJK) Print(ctx context.Context, doc printer.Document) error {
	for _, l := range doc.Lines {
		for _, r := range l.Text {
			if r >= 0x2E80 { // a wide (CJK) character
				return printer.ErrPaperJam
			}
		}
	}
	return p.Fake.Print(ctx, doc)
}

func (p anyAPIVersion) Configure(ctx context.Context, _ string, config map[string]string) error {
	return p.Fake.Configure(ctx, printer.APIVersion1, config)
}

func brokenPrinters() map[string]basetest.Broken[Harness] {
	wrap := func(fn func(*fake.Fake) printer.Printer) func(*testing.T) printer.Printer {
		return func(*testing.T) printer.Printer { return fn(fake.NewFake()) }
	}
	plain := wrap(func(f *fake.Fake) printer.Printer { return f })
	return map[string]basetest.Broken[Harness]{
		"has its cover open":   {Harness: Harness{New: plain, Config: map[string]string{"status": "cover_open"}}, Step: "Health"},
		"runs out of paper":    {Harness: Harness{New: plain, Config: map[string]string{"paper": "1"}}, Step: "StatusAfterPrint"},
		"has no drawer":        {Harness: Harness{New: plain, Config: map[string]string{"drawer": "false"}}, Step: "OpenDrawer"},
		"claims another kind":  {Harness: Harness{New: wrap(func(f *fake.Fake) printer.Printer { return wrongKind{f} })}, Step: "Info"},
		"reports no status":    {Harness: Harness{New: wrap(func(f *fake.Fake) printer.Printer { return blankStatus{f} })}, Step: "Status"},
		"cannot print Chinese": {Harness: Harness{New: wrap(func(f *fake.Fake) printer.Printer { return rejectsCJK{f} })}, Step: "Print"},
		"accepts any API":      {Harness: Harness{New: wrap(func(f *fake.Fake) printer.Printer { return anyAPIVersion{f} })}, Step: "ConfigureRejectsUnknownAPIVersion"},
	}
}

// TestConformanceCatchesBrokenPrinters runs RunConformance on each broken
// printer in a child process of the test binary, and checks that it fails
// at the right step.
func TestConformanceCatchesBrokenPrinters(t *testing.T) {
	basetest.RunBroken(t, "a printer", brokenPrinters(), RunConformance)
}
