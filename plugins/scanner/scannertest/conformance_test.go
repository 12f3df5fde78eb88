package scannertest

import (
	"context"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/scanner/fake"

	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/scanner"
)

// Broken scanners RunConformance must fail, each with the step it must
// fail at.
type (
	cannotEnable  struct{ *fake.Fake }
	neverDisables struct{ *fake.Fake }
	noScanTime    struct{ *fake.Fake }
	anyAPIVersion struct{ *fake.Fake }
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

func brokenScanners() map[string]basetest.Broken[Harness] {
	// Every broken scanner embeds a *Fake, whose Read it inherits.
	trigger := func(impl scanner.Scanner, code string) { impl.(interface{ Read(string) }).Read(code) }
	wrap := func(fn func(*fake.Fake) scanner.Scanner) func(*testing.T) scanner.Scanner {
		return func(*testing.T) scanner.Scanner { return fn(fake.NewFake()) }
	}
	plain := wrap(func(f *fake.Fake) scanner.Scanner { return f })
	return map[string]basetest.Broken[Harness]{
		"is not connected":        {Harness: Harness{New: plain, Trigger: trigger, Config: map[string]string{"connected": "false"}}, Step: "Health"},
		"cannot be enabled":       {Harness: Harness{New: wrap(func(f *fake.Fake) scanner.Scanner { return cannotEnable{f} }), Trigger: trigger}, Step: "Enable"},
		"delivers while disabled": {Harness: Harness{New: wrap(func(f *fake.Fake) scanner.Scanner { return neverDisables{f} }), Trigger: trigger}, Step: "CodeReadWhileDisabledIsDropped"},
		"does not time its scans": {Harness: Harness{New: wrap(func(f *fake.Fake) scanner.Scanner { return noScanTime{f} }), Trigger: trigger}, Step: "ScanArrives"},
		"accepts any API":         {Harness: Harness{New: wrap(func(f *fake.Fake) scanner.Scanner { return anyAPIVersion{f} }), Trigger: trigger}, Step: "ConfigureRejectsUnknownAPIVersion"},
	}
}

// TestConformanceCatchesBrokenScanners runs RunConformance on each broken
// scanner in a child process of the test binary, and checks that it fails
// at the right step.
func TestConformanceCatchesBrokenScanners(t *testing.T) {
	basetest.RunBroken(t, "a scanner", brokenScanners(), RunConformance)
}
