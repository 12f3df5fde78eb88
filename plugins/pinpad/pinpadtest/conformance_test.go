package pinpadtest

import (
	"context"
	"errors"
	"testing"

	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
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
	acceptsAnyMAC   struct{ *fake.Fake }
	macsLessData    struct{ *fake.Fake }
	plainBadMAC     struct{ *fake.Fake }
	macWithoutKeys  struct{ *fake.Fake }
	eraseKeepsKeys  struct{ *fake.Fake }
	keepsFirstKeys  struct {
		*fake.Fake
		loaded bool
	}
)

// eraseKeepsMACKey erases the keys of its card side (Fake) but MACs on a
// second PIN pad loaded with the same keys that EraseKeys never reaches.
type eraseKeepsMACKey struct {
	*fake.Fake
	mac *fake.Fake
}

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

func (p acceptsAnyMAC) VerifyMAC(ctx context.Context, req pinpad.MACRequest) error {
	if err := p.Fake.VerifyMAC(ctx, req); !errors.Is(err, pinpad.ErrBadMAC) {
		return err
	}
	return nil
}

func (p macsLessData) CalculateMAC(ctx context.Context, req pinpad.MACRequest) ([]byte, error) {
	if len(req.Data) > 0 {
		req.Data = req.Data[:len(req.Data)-1]
	}
	return p.Fake.CalculateMAC(ctx, req)
}

func (p plainBadMAC) VerifyMAC(ctx context.Context, req pinpad.MACRequest) error {
	err := p.Fake.VerifyMAC(ctx, req)
	if errors.Is(err, pinpad.ErrBadMAC) {
		err = errors.New("MAC mismatch")
	}
	return err
}

func (p macWithoutKeys) CalculateMAC(ctx context.Context, req pinpad.MACRequest) ([]byte, error) {
	mac, err := p.Fake.CalculateMAC(ctx, req)
	if errors.Is(err, pinpad.ErrKeysNotLoaded) {
		return make([]byte, pinpad.MACSize), nil
	}
	return mac, err
}

func (p eraseKeepsKeys) EraseKeys(context.Context) error { return nil }

// injectsUnchecked takes a master key whatever its check value says.
type injectsUnchecked struct{ *fake.Fake }

func (p injectsUnchecked) InjectMasterKey(ctx context.Context, key pinpad.MasterKey) error {
	key.CheckValue, _ = cardcrypto.CheckValue(key.Key)
	return p.Fake.InjectMasterKey(ctx, key)
}

// injectsNothing answers a key injection without taking the key.
type injectsNothing struct{ *fake.Fake }

func (p injectsNothing) InjectMasterKey(context.Context, pinpad.MasterKey) error { return nil }

// noChipData reads a chip card as if it had been swiped: no sequence
// number, no ICC data.
type noChipData struct{ *fake.Fake }

func (p noChipData) ReadCard(ctx context.Context, req pinpad.ReadCardRequest) (pinpad.Card, error) {
	c, err := p.Fake.ReadCard(ctx, req)
	c.SequenceNumber, c.ICCData = "", nil
	return c, err
}

// staleICCData answers a chip's EMV data for another amount.
type staleICCData struct{ *fake.Fake }

func (p staleICCData) ReadCard(ctx context.Context, req pinpad.ReadCardRequest) (pinpad.Card, error) {
	req.Amount++
	return p.Fake.ReadCard(ctx, req)
}

func (p *keepsFirstKeys) LoadWorkingKeys(ctx context.Context, keys pinpad.WorkingKeys) error {
	if p.loaded {
		return nil
	}
	err := p.Fake.LoadWorkingKeys(ctx, keys)
	p.loaded = err == nil
	return err
}

func (p eraseKeepsMACKey) Configure(ctx context.Context, apiVersion string, config map[string]string) error {
	if err := p.mac.Configure(ctx, apiVersion, config); err != nil {
		return err
	}
	return p.Fake.Configure(ctx, apiVersion, config)
}

func (p eraseKeepsMACKey) LoadWorkingKeys(ctx context.Context, keys pinpad.WorkingKeys) error {
	if err := p.mac.LoadWorkingKeys(ctx, keys); err != nil {
		return err
	}
	return p.Fake.LoadWorkingKeys(ctx, keys)
}

func (p eraseKeepsMACKey) CalculateMAC(ctx context.Context, req pinpad.MACRequest) ([]byte, error) {
	return p.mac.CalculateMAC(ctx, req)
}

func (p eraseKeepsMACKey) VerifyMAC(ctx context.Context, req pinpad.MACRequest) error {
	return p.mac.VerifyMAC(ctx, req)
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
		"accepts any MAC":       {Harness: Harness{New: wrap(func(f *fake.Fake) pinpad.PinPad { return acceptsAnyMAC{f} })}, Step: "VerifyMAC"},
		"MACs less data":        {Harness: Harness{New: wrap(func(f *fake.Fake) pinpad.PinPad { return macsLessData{f} })}, Step: "CalculateMAC"},
		"loses ErrBadMAC":       {Harness: Harness{New: wrap(func(f *fake.Fake) pinpad.PinPad { return plainBadMAC{f} })}, Step: "VerifyMAC"},
		"MACs without keys":     {Harness: Harness{New: wrap(func(f *fake.Fake) pinpad.PinPad { return macWithoutKeys{f} })}, Step: "MACBeforeKeysIsRefused"},
		"keeps keys on erase":   {Harness: Harness{New: wrap(func(f *fake.Fake) pinpad.PinPad { return eraseKeepsKeys{f} })}, Step: "EraseKeys"},
		"keeps the MAC key on erase": {Harness: Harness{New: wrap(func(f *fake.Fake) pinpad.PinPad {
			return eraseKeepsMACKey{Fake: f, mac: fake.NewFake()}
		})}, Step: "EraseKeys"},
		"drops the chip data":        {Harness: Harness{New: wrap(func(f *fake.Fake) pinpad.PinPad { return noChipData{f} })}, Step: "ReadCard"},
		"EMV data of another amount": {Harness: Harness{New: wrap(func(f *fake.Fake) pinpad.PinPad { return staleICCData{f} })}, Step: "ReadCard"},
		"keeps the first keys":       {Harness: Harness{New: wrap(func(f *fake.Fake) pinpad.PinPad { return &keepsFirstKeys{Fake: f} })}, Step: "LoadWorkingKeysRestores"},
	}
}

// TestConformanceCatchesBrokenPinPads runs RunConformance on each broken
// PIN pad in a child process of the test binary, and checks that it fails
// at the right step.
func TestConformanceCatchesBrokenPinPads(t *testing.T) {
	basetest.RunBroken(t, "a PIN pad", brokenPinPads(), RunConformance)
}
