package pinpadtest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/posrt/posrt/plugins/pinpad"
)

// Broken PIN pads RunConformance must fail, each with the step it must
// fail at.
type (
	plainKeysError  struct{ *Fake }
	ignoresKeyCheck struct{ *Fake }
	unmaskedPAN     struct{ *Fake }
	anyAPIVersion   struct{ *Fake }
)

func (p plainKeysError) ReadCard(ctx context.Context, req pinpad.ReadCardRequest) (pinpad.Card, error) {
	c, err := p.Fake.ReadCard(ctx, req)
	if errors.Is(err, pinpad.ErrKeysNotLoaded) {
		err = errors.New("keys not loaded")
	}
	return c, err
}

func (p ignoresKeyCheck) LoadWorkingKeys(ctx context.Context, keys pinpad.WorkingKeys) error {
	if err := p.Fake.LoadWorkingKeys(ctx, keys); !errors.Is(err, pinpad.ErrKeyCheck) {
		return err
	}
	return nil
}

func (p unmaskedPAN) ReadCard(ctx context.Context, req pinpad.ReadCardRequest) (pinpad.Card, error) {
	c, err := p.Fake.ReadCard(ctx, req)
	c.Expiry = Cards[DefaultCard].PAN + c.Expiry
	return c, err
}

func (p anyAPIVersion) Configure(ctx context.Context, _ string, config map[string]string) error {
	return p.Fake.Configure(ctx, pinpad.APIVersion1, config)
}

func brokenPinPads() map[string]struct {
	h    Harness
	step string
} {
	wrap := func(fn func(*Fake) pinpad.PinPad) func(*testing.T) pinpad.PinPad {
		return func(*testing.T) pinpad.PinPad { return fn(NewFake()) }
	}
	fake := wrap(func(f *Fake) pinpad.PinPad { return f })
	return map[string]struct {
		h    Harness
		step string
	}{
		"enters another PIN":    {Harness{New: fake, Config: map[string]string{"pin": "wrong"}}, "GetPIN"},
		"presents another card": {Harness{New: fake, Config: map[string]string{"card": "unionpay-credit"}}, "ReadCard"},
		"holds another TMK":     {Harness{New: fake, Config: map[string]string{"tmk": "00112233445566778899AABBCCDDEEFF"}}, "LoadWorkingKeys"},
		"loses the sentinel":    {Harness{New: wrap(func(f *Fake) pinpad.PinPad { return plainKeysError{f} })}, "CardCallsBeforeKeysAreRefused"},
		"ignores check values":  {Harness{New: wrap(func(f *Fake) pinpad.PinPad { return ignoresKeyCheck{f} })}, "LoadWorkingKeysRejectsWrongCheckValue"},
		"leaks the PAN":         {Harness{New: wrap(func(f *Fake) pinpad.PinPad { return unmaskedPAN{f} })}, "ReadCard"},
		"accepts any API":       {Harness{New: wrap(func(f *Fake) pinpad.PinPad { return anyAPIVersion{f} })}, "ConfigureRejectsUnknownAPIVersion"},
	}
}

const brokenEnv = "PINPADTEST_BROKEN"

// TestConformanceCatchesBrokenPinPads runs RunConformance on each broken
// PIN pad in a child process of the test binary, and checks that it fails
// at the right step.
func TestConformanceCatchesBrokenPinPads(t *testing.T) {
	if name := os.Getenv(brokenEnv); name != "" {
		RunConformance(t, brokenPinPads()[name].h)
		return
	}
	for name, b := range brokenPinPads() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestConformanceCatchesBrokenPinPads$", "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"="+name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("RunConformance passed a PIN pad that %s", name)
			}
			if !strings.Contains(string(out), "--- FAIL: TestConformanceCatchesBrokenPinPads/"+b.step+" (") {
				t.Errorf("RunConformance on a PIN pad that %s did not fail at step %s:\n%s", name, b.step, failures(out))
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
