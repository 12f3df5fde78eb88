package scannertest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/scanner"
)

// Broken scanners RunConformance must fail, each with the step it must
// fail at.
type (
	cannotEnable  struct{ *Fake }
	neverDisables struct{ *Fake }
	noScanTime    struct{ *Fake }
	anyAPIVersion struct{ *Fake }
)

func (s cannotEnable) Enable(context.Context) error { return scanner.ErrNotConnected }

func (s neverDisables) Disable(context.Context) error { return nil }

func (s noScanTime) Scans(ctx context.Context, each func(scanner.Scan) error) error {
	return s.Fake.Scans(ctx, func(sc scanner.Scan) error {
		sc.At = time.Time{}
		return each(sc)
	})
}

func (s anyAPIVersion) Configure(ctx context.Context, _ string, config map[string]string) error {
	return s.Fake.Configure(ctx, scanner.APIVersion1, config)
}

func brokenScanners() map[string]struct {
	h    Harness
	step string
} {
	// Every broken scanner embeds a *Fake, whose Read it inherits.
	trigger := func(impl scanner.Scanner, code string) { impl.(interface{ Read(string) }).Read(code) }
	wrap := func(fn func(*Fake) scanner.Scanner) func(*testing.T) scanner.Scanner {
		return func(*testing.T) scanner.Scanner { return fn(NewFake()) }
	}
	fake := wrap(func(f *Fake) scanner.Scanner { return f })
	return map[string]struct {
		h    Harness
		step string
	}{
		"is not connected":        {Harness{New: fake, Trigger: trigger, Config: map[string]string{"connected": "false"}}, "Health"},
		"cannot be enabled":       {Harness{New: wrap(func(f *Fake) scanner.Scanner { return cannotEnable{f} }), Trigger: trigger}, "Enable"},
		"delivers while disabled": {Harness{New: wrap(func(f *Fake) scanner.Scanner { return neverDisables{f} }), Trigger: trigger}, "CodeReadWhileDisabledIsDropped"},
		"does not time its scans": {Harness{New: wrap(func(f *Fake) scanner.Scanner { return noScanTime{f} }), Trigger: trigger}, "ScanArrives"},
		"accepts any API":         {Harness{New: wrap(func(f *Fake) scanner.Scanner { return anyAPIVersion{f} }), Trigger: trigger}, "ConfigureRejectsUnknownAPIVersion"},
	}
}

const brokenEnv = "SCANNERTEST_BROKEN"

// TestConformanceCatchesBrokenScanners runs RunConformance on each broken
// scanner in a child process of the test binary, and checks that it fails
// at the right step.
func TestConformanceCatchesBrokenScanners(t *testing.T) {
	if name := os.Getenv(brokenEnv); name != "" {
		RunConformance(t, brokenScanners()[name].h)
		return
	}
	for name, b := range brokenScanners() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestConformanceCatchesBrokenScanners$", "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"="+name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("RunConformance passed a scanner that %s", name)
			}
			if !strings.Contains(string(out), "--- FAIL: TestConformanceCatchesBrokenScanners/"+b.step+" (") {
				t.Errorf("RunConformance on a scanner that %s did not fail at step %s:\n%s", name, b.step, failures(out))
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
