package printertest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/runtime/plugin"
)

// Broken printers RunConformance must fail, each with the step it must
// fail at.
type (
	wrongKind     struct{ *Fake }
	blankStatus   struct{ *Fake }
	rejectsCJK    struct{ *Fake }
	anyAPIVersion struct{ *Fake }
)

func (p wrongKind) Info(ctx context.Context) (plugin.Info, error) {
	info, err := p.Fake.Info(ctx)
	info.Kind = plugin.KindScanner
	return info, err
}

func (p blankStatus) Status(context.Context) (printer.Status, error) { return "", nil }

func (p rejectsCJK) Print(ctx context.Context, doc printer.Document) error {
	for _, l := range doc.Lines {
		for _, r := range l.Text {
			if runeWidth(r) == 2 {
				return printer.ErrPaperJam
			}
		}
	}
	return p.Fake.Print(ctx, doc)
}

func (p anyAPIVersion) Configure(ctx context.Context, _ string, config map[string]string) error {
	return p.Fake.Configure(ctx, printer.APIVersion1, config)
}

func brokenPrinters() map[string]struct {
	h    Harness
	step string
} {
	wrap := func(fn func(*Fake) printer.Printer) func(*testing.T) printer.Printer {
		return func(*testing.T) printer.Printer { return fn(NewFake()) }
	}
	fake := wrap(func(f *Fake) printer.Printer { return f })
	return map[string]struct {
		h    Harness
		step string
	}{
		"has its cover open":   {Harness{New: fake, Config: map[string]string{"status": "cover_open"}}, "Health"},
		"runs out of paper":    {Harness{New: fake, Config: map[string]string{"paper": "1"}}, "StatusAfterPrint"},
		"has no drawer":        {Harness{New: fake, Config: map[string]string{"drawer": "false"}}, "OpenDrawer"},
		"claims another kind":  {Harness{New: wrap(func(f *Fake) printer.Printer { return wrongKind{f} })}, "Info"},
		"reports no status":    {Harness{New: wrap(func(f *Fake) printer.Printer { return blankStatus{f} })}, "Status"},
		"cannot print Chinese": {Harness{New: wrap(func(f *Fake) printer.Printer { return rejectsCJK{f} })}, "Print"},
		"accepts any API":      {Harness{New: wrap(func(f *Fake) printer.Printer { return anyAPIVersion{f} })}, "ConfigureRejectsUnknownAPIVersion"},
	}
}

const brokenEnv = "PRINTERTEST_BROKEN"

// TestConformanceCatchesBrokenPrinters runs RunConformance on each broken
// printer in a child process of the test binary, and checks that it fails
// at the right step.
func TestConformanceCatchesBrokenPrinters(t *testing.T) {
	if name := os.Getenv(brokenEnv); name != "" {
		RunConformance(t, brokenPrinters()[name].h)
		return
	}
	for name, b := range brokenPrinters() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestConformanceCatchesBrokenPrinters$", "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"="+name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("RunConformance passed a printer that %s", name)
			}
			if !strings.Contains(string(out), "--- FAIL: TestConformanceCatchesBrokenPrinters/"+b.step+" (") {
				t.Errorf("RunConformance on a printer that %s did not fail at step %s:\n%s", name, b.step, failures(out))
			}
		})
	}
}

// failures keeps the lines of a test output that tell what failed.
func failures(out []byte) string {
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "FAIL") || strings.Contains(l, ".go:") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
