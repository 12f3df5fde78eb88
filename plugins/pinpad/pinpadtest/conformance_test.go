package pinpadtest

import (
	"context"
	"errors"
	"testing"

	"github.com/posrt/posrt/plugins/pinpad/fake"
	"github.com/posrt/posrt/plugins/pinpad/testcards"

	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/pinpad"
)

// Broken PIN pads RunConformance must fail, each with the step it must
// fail at.
type (
	plainKeysError  struct{ *fake.Fake }
	ignoresKeyCheck struct{ *fake.Fake }
	unmaskedPAN     struct{ *fake.Fake }
	anyAPIVersion   struct{ *fake.Fake }
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
	c.Expiry = testcards.Cards[testcards.DefaultCard].PAN + c.Expiry
	return c, err
}

func (p anyAPIVersion) Configure(ctx context.Context, _ string, config map[string]string) error {
	return p.Fake.Configure(ctx, pinpad.APIVersion1, config)
}

func brokenPinPads() map[string]basetest.Broken[Harness] {
	wrap := func(fn func(*fake.Fake) pinpad.PinPad) func(*testing.T) pinpad.PinPad {
		return func(*testing.T) pinpad.PinPad { return fn(fake.NewFake()) }
	}
	plain := wrap(func(f *fake.Fake) pinpad.PinPad { return f })
	return map[string]basetest.Broken[Harness]{
		"enters another PIN":    {Harness: Harness{New: plain, Config: map[string]string{"pin": "wrong"}}, Step: "GetPIN"},
		"presents another card": {Harness: Harness{New: plain, Config: map[string]string{"card": "unionpay-credit"}}, Step: "ReadCard"},
		"holds another TMK":     {Harness: Harness{New: plain, Config: map[string]string{"tmk": "00112233445566778899AABBCCDDEEFF"}}, Step: "LoadWorkingKeys"},
		"loses the sentinel":    {Harness: Harness{New: wrap(func(f *fake.Fake) pinpad.PinPad { return plainKeysError{f} })}, Step: "CardCallsBeforeKeysAreRefused"},
		"ignores check values":  {Harness: Harness{New: wrap(func(f *fake.Fake) pinpad.PinPad { return ignoresKeyCheck{f} })}, Step: "LoadWorkingKeysRejectsWrongCheckValue"},
		"leaks the PAN":         {Harness: Harness{New: wrap(func(f *fake.Fake) pinpad.PinPad { return unmaskedPAN{f} })}, Step: "ReadCard"},
		"accepts any API":       {Harness: Harness{New: wrap(func(f *fake.Fake) pinpad.PinPad { return anyAPIVersion{f} })}, Step: "ConfigureRejectsUnknownAPIVersion"},
	}
}

// TestConformanceCatchesBrokenPinPads runs RunConformance on each broken
// PIN pad in a child process of the test binary, and checks that it fails
// at the right step.
func TestConformanceCatchesBrokenPinPads(t *testing.T) {
	basetest.RunBroken(t, "a PIN pad", brokenPinPads(), RunConformance)
}
