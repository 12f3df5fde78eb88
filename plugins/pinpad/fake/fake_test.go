package fake

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
	"github.com/posrt/posrt/plugins/pinpad/pinpadtest"
	"github.com/posrt/posrt/plugins/pinpad/testcards"
)

// rig is a Fake served through gRPC, with the clear working keys the test
// loaded into it.
type rig struct {
	fake                     *Fake
	pp                       pinpad.PinPad
	pinKey, macKey, trackKey []byte
}

func newRig(t *testing.T, config map[string]string) *rig {
	t.Helper()
	r := &rig{fake: NewFake()}
	r.pp = pinpadtest.Connect(t, r.fake)
	if err := r.pp.Configure(context.Background(), pinpad.APIVersion1, config); err != nil {
		t.Fatalf("Configure(%v): %v", config, err)
	}
	return r
}

// load loads fresh working keys and remembers the clear ones.
func (r *rig) load(t *testing.T) {
	t.Helper()
	keys, pinKey, trackKey := newKeys(t)
	macKey := cardcrypto.NewKey()
	keys.MAC = wrapKey(t, macKey)
	if err := r.pp.LoadWorkingKeys(context.Background(), keys); err != nil {
		t.Fatalf("LoadWorkingKeys: %v", err)
	}
	r.pinKey, r.macKey, r.trackKey = pinKey, macKey, trackKey
}

func newKeys(t *testing.T) (keys pinpad.WorkingKeys, pinKey, trackKey []byte) {
	t.Helper()
	pinKey, trackKey = cardcrypto.NewKey(), cardcrypto.NewKey()
	return pinpad.WorkingKeys{
		PIN: wrapKey(t, pinKey), MAC: wrapKey(t, cardcrypto.NewKey()), Track: wrapKey(t, trackKey),
	}, pinKey, trackKey
}

func wrapKey(t *testing.T, key []byte) pinpad.WorkingKey {
	t.Helper()
	enc, kcv, err := cardcrypto.Wrap(testcards.TestTMK(), key)
	if err != nil {
		t.Fatal(err)
	}
	return pinpad.WorkingKey{Encrypted: enc, CheckValue: kcv}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readAndPIN reads the card and asks for its PIN, returning the PAN in the
// track and the PIN in the block.
func (r *rig) readAndPIN(t *testing.T) (pan, pin string) {
	t.Helper()
	ctx := context.Background()
	card, err := r.pp.ReadCard(ctx, pinpad.ReadCardRequest{Amount: 100})
	if err != nil {
		t.Fatalf("ReadCard: %v", err)
	}
	track, err := cardcrypto.DecryptTrack(r.trackKey, card.EncryptedTrack)
	if err != nil {
		t.Fatal(err)
	}
	if pan, _, err = cardcrypto.ParseTrack(track); err != nil {
		t.Fatalf("the track does not decrypt under the loaded track key: %v", err)
	}
	block, err := r.pp.GetPIN(ctx, pinpad.PINRequest{Amount: 100, EncryptedTrack: card.EncryptedTrack})
	if err != nil {
		t.Fatalf("GetPIN: %v", err)
	}
	if pin, err = cardcrypto.PIN(r.pinKey, block, pan); err != nil {
		t.Fatalf("the PIN block does not decode under the loaded PIN key: %v", err)
	}
	return pan, pin
}

func TestFakePIN(t *testing.T) {
	debit, credit := testcards.Cards[testcards.DefaultCard], testcards.Cards["unionpay-credit"]
	for _, tc := range []struct {
		name    string
		config  map[string]string
		wantPAN string
		check   func(pin string) bool
	}{
		{"correct by default", nil, debit.PAN, func(p string) bool { return p == debit.PIN }},
		{"correct for another card", map[string]string{"card": credit.Name, "pin": "correct"}, credit.PAN, func(p string) bool { return p == credit.PIN }},
		{"explicit", map[string]string{"pin": "000000000000"}, debit.PAN, func(p string) bool { return p == "000000000000" }},
		{"wrong", map[string]string{"pin": "wrong"}, debit.PAN, func(p string) bool { return p != debit.PIN && isPIN(p) && len(p) == 6 }},
		{"wrong for another card", map[string]string{"card": credit.Name, "pin": "wrong"}, credit.PAN, func(p string) bool { return p != credit.PIN && len(p) == 6 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.config)
			r.load(t)
			pan, pin := r.readAndPIN(t)
			if pan != tc.wantPAN {
				t.Errorf("card %s, want %s", cardcrypto.MaskPAN(pan), cardcrypto.MaskPAN(tc.wantPAN))
			}
			if !tc.check(pin) {
				t.Errorf("the block decodes to PIN %q, not what the config asks for", pin)
			}
		})
	}
}

func TestWrongPINDiffers(t *testing.T) {
	for _, pin := range []string{"123456", "0000", "999999", "909090909090", "1234"} {
		if w := wrongPIN(pin); w == pin || len(w) != 6 || !isPIN(w) {
			t.Errorf("wrongPIN(%s) = %s", pin, w)
		}
	}
}

func TestFakeEntryModes(t *testing.T) {
	r := newRig(t, map[string]string{"entry_mode": pinpad.EntrySwipe})
	r.load(t)
	ctx := context.Background()
	_, err := r.pp.ReadCard(ctx, pinpad.ReadCardRequest{EntryModes: []string{pinpad.EntryInsert, pinpad.EntryTap}})
	if !errors.Is(err, pinpad.ErrCardRead) || !strings.Contains(err.Error(), "swipe") {
		t.Errorf("ReadCard of a swiped card allowing insert and tap: err = %v, want pinpad.ErrCardRead naming swipe", err)
	}
	card, err := r.pp.ReadCard(ctx, pinpad.ReadCardRequest{EntryModes: []string{pinpad.EntrySwipe}})
	if err != nil || card.EntryMode != pinpad.EntrySwipe {
		t.Errorf("ReadCard allowing swipe = %+v, %v; want a swiped card", card, err)
	}
}

func TestFakeCancel(t *testing.T) {
	r := newRig(t, map[string]string{"cancel": "true"})
	r.load(t)
	ctx := context.Background()
	if _, err := r.pp.ReadCard(ctx, pinpad.ReadCardRequest{}); !errors.Is(err, pinpad.ErrCancelled) {
		t.Errorf("ReadCard: err = %v, want pinpad.ErrCancelled", err)
	}
	track, err := cardcrypto.EncryptTrack(r.trackKey, testcards.Cards[testcards.DefaultCard].Track())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.pp.GetPIN(ctx, pinpad.PINRequest{EncryptedTrack: track}); !errors.Is(err, pinpad.ErrCancelled) {
		t.Errorf("GetPIN: err = %v, want pinpad.ErrCancelled", err)
	}
}

func TestFakeNotConnected(t *testing.T) {
	r := newRig(t, map[string]string{"connected": "false"})
	ctx := context.Background()
	keys, _, trackKey := newKeys(t)
	track, err := cardcrypto.EncryptTrack(trackKey, testcards.Cards[testcards.DefaultCard].Track())
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"LoadWorkingKeys": func() error { return r.pp.LoadWorkingKeys(ctx, keys) },
		"ReadCard":        func() error { _, err := r.pp.ReadCard(ctx, pinpad.ReadCardRequest{}); return err },
		"GetPIN":          func() error { _, err := r.pp.GetPIN(ctx, pinpad.PINRequest{EncryptedTrack: track}); return err },
		"Display":         func() error { return r.pp.Display(ctx, []string{"hello"}) },
		"CalculateMAC":    func() error { _, err := r.pp.CalculateMAC(ctx, pinpad.MACRequest{Data: []byte("x")}); return err },
		"VerifyMAC":       func() error { return r.pp.VerifyMAC(ctx, pinpad.MACRequest{Data: []byte("x"), MAC: make([]byte, 8)}) },
		"EraseKeys":       func() error { return r.pp.EraseKeys(ctx) },
	} {
		if err := call(); !errors.Is(err, pinpad.ErrNotConnected) {
			t.Errorf("%s: err = %v, want pinpad.ErrNotConnected", name, err)
		}
	}
	if r.fake.Displayed() != nil {
		t.Errorf("Displayed = %q after a failed Display", r.fake.Displayed())
	}
	h, err := r.pp.Health(ctx)
	if err != nil || h.State != base.StateOffline {
		t.Errorf("Health = %+v, %v; want offline", h, err)
	}
}

func TestFakeRejectsBadConfig(t *testing.T) {
	r := newRig(t, map[string]string{"card": "unionpay-credit"})
	r.load(t)
	for _, tc := range []struct{ key, value string }{
		{"card", "nope"},
		{"tmk", "zz"},
		{"tmk", "0123456789ABCDEF"}, // 8 bytes
		{"entry_mode", "chip"},
		{"pin", "12"},
		{"pin", "1234567890123"},
		{"pin", "12a4"},
		{"cancel", "yes"},
		{"connected", "0"},
		{"latency", "soon"},
		{"crash_after", "-1"},
		{"colour", "red"},
	} {
		err := r.pp.Configure(context.Background(), pinpad.APIVersion1, map[string]string{tc.key: tc.value})
		if err == nil || !strings.Contains(err.Error(), "config key "+tc.key) {
			t.Errorf("Configure(%s=%q): err = %v, want an error naming the key", tc.key, tc.value, err)
		}
	}
	// The rejected configurations changed nothing: same card, same keys.
	if pan, pin := r.readAndPIN(t); pan != testcards.Cards["unionpay-credit"].PAN || pin != testcards.Cards["unionpay-credit"].PIN {
		t.Errorf("after rejected configurations the PIN pad presents %s", cardcrypto.MaskPAN(pan))
	}
}

func TestFakeRejectsUnknownAPIVersion(t *testing.T) {
	if err := NewFake().Configure(context.Background(), "v0", nil); err == nil || !strings.Contains(err.Error(), `"v0"`) {
		t.Errorf("Configure(v0): err = %v, want an error naming the version", err)
	}
}

func TestFakeInfo(t *testing.T) {
	info, err := NewFake().Info(context.Background())
	want := base.Info{
		Kind: base.KindPinPad, Name: "fake-pinpad", Version: "0.1.0", APIVersions: pinpad.APIVersions,
		Capabilities: []string{pinpad.CapabilityMAC, pinpad.CapabilityEraseKeys, pinpad.CapabilityInjectMasterKey},
	}
	if err != nil || info.Kind != want.Kind || info.Name != want.Name || info.Version != want.Version || !slices.Equal(info.APIVersions, want.APIVersions) ||
		!slices.Equal(info.Capabilities, want.Capabilities) {
		t.Errorf("Info = %+v, %v; want %+v", info, err, want)
	}
}

func TestFakeFailedKeyLoadKeepsOldKeys(t *testing.T) {
	r := newRig(t, nil)
	r.load(t)
	// Valid PIN and MAC keys, then a track key whose check value is wrong:
	// a PIN pad that loaded keys one by one would now hold the new PIN key.
	bad, _, _ := newKeys(t)
	bad.Track.CheckValue[0] ^= 0x01
	if err := r.pp.LoadWorkingKeys(context.Background(), bad); !errors.Is(err, pinpad.ErrKeyCheck) || !strings.Contains(err.Error(), "track key") {
		t.Fatalf("LoadWorkingKeys with a bad track key: err = %v, want pinpad.ErrKeyCheck naming the track key", err)
	}
	if pan, pin := r.readAndPIN(t); pan != testcards.Cards[testcards.DefaultCard].PAN || pin != testcards.Cards[testcards.DefaultCard].PIN {
		t.Errorf("after the failed load: card %s; want the old keys to work", cardcrypto.MaskPAN(pan))
	}
}

func TestFakeKeysUnderAnotherTMKAreRefused(t *testing.T) {
	r := newRig(t, map[string]string{"tmk": "00112233445566778899AABBCCDDEEFF"})
	keys, _, _ := newKeys(t) // wrapped under testcards.TestTMK
	if err := r.pp.LoadWorkingKeys(context.Background(), keys); !errors.Is(err, pinpad.ErrKeyCheck) {
		t.Errorf("LoadWorkingKeys under the wrong TMK: err = %v, want pinpad.ErrKeyCheck", err)
	}
}

func TestFakeConfigureErasesKeys(t *testing.T) {
	r := newRig(t, nil)
	r.load(t)
	if err := r.pp.Configure(context.Background(), pinpad.APIVersion1, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.pp.ReadCard(context.Background(), pinpad.ReadCardRequest{}); !errors.Is(err, pinpad.ErrKeysNotLoaded) {
		t.Errorf("ReadCard after Configure: err = %v, want pinpad.ErrKeysNotLoaded", err)
	}
}

func TestFakeGetPINRejectsForeignTrack(t *testing.T) {
	r := newRig(t, nil)
	r.load(t)
	foreign, err := cardcrypto.EncryptTrack(cardcrypto.NewKey(), testcards.Cards[testcards.DefaultCard].Track())
	if err != nil {
		t.Fatal(err)
	}
	for name, track := range map[string][]byte{"foreign key": foreign, "empty": nil, "odd length": {1, 2, 3}} {
		_, err := r.pp.GetPIN(context.Background(), pinpad.PINRequest{EncryptedTrack: track})
		if !errors.Is(err, pinpad.ErrCardRead) {
			t.Errorf("GetPIN with a track (%s): err = %v, want pinpad.ErrCardRead", name, err)
		}
	}
}

func TestFakeDisplayed(t *testing.T) {
	r := newRig(t, nil)
	for _, lines := range [][]string{{"first"}, {"AMOUNT", "12.34 yuan"}} {
		if err := r.pp.Display(context.Background(), lines); err != nil {
			t.Fatal(err)
		}
		if got := r.fake.Displayed(); !slices.Equal(got, lines) {
			t.Errorf("Displayed = %q, want %q", got, lines)
		}
	}
}

func TestFakeLatencyOnDeviceCallsOnly(t *testing.T) {
	r := newRig(t, map[string]string{"latency": "1h"})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := r.pp.Info(ctx); err != nil {
		t.Errorf("Info: %v", err)
	}
	if _, err := r.pp.Health(ctx); err != nil {
		t.Errorf("Health: %v", err)
	}
	if err := r.pp.Display(ctx, []string{"x"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Display with 1h latency: err = %v, want context.DeadlineExceeded", err)
	}
}

func TestFakeCrashAfter(t *testing.T) {
	f := NewFake()
	var exits basetest.Exits
	f.faults.Exit = exits.Exit
	pp := pinpadtest.Connect(t, f)
	ctx := context.Background()
	if err := pp.Configure(ctx, pinpad.APIVersion1, map[string]string{"crash_after": "2"}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		// Info, Health and Configure are not device calls.
		if _, err := pp.Info(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := pp.Health(ctx); err != nil {
			t.Fatal(err)
		}
		if err := pp.Display(ctx, []string{"call"}); err != nil {
			t.Fatalf("device call %d: %v", i+1, err)
		}
		if got := exits.Codes(); len(got) != 0 {
			t.Fatalf("exited %v after %d device calls", got, i+1)
		}
	}
	_, _ = pp.ReadCard(ctx, pinpad.ReadCardRequest{})
	if got := exits.Codes(); !slices.Equal(got, []int{2}) {
		t.Errorf("after the third device call: exited %v, want [2]", got)
	}
}
func TestFakeConformance(t *testing.T) {
	credit := testcards.Cards["unionpay-credit"]
	const otherTMK = "00112233445566778899AABBCCDDEEFF"
	for _, tc := range []struct {
		name string
		h    pinpadtest.Harness
	}{
		{"defaults", pinpadtest.Harness{}},
		{"configured", pinpadtest.Harness{
			Config: map[string]string{"card": credit.Name, "pin": "4321", "tmk": otherTMK, "entry_mode": pinpad.EntryTap, "latency": "1ms"},
			TMK:    mustHex(t, otherTMK), PAN: credit.PAN, PIN: "4321",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.h.New = func(*testing.T) pinpad.PinPad { return NewFake() }
			pinpadtest.RunConformance(t, tc.h)
		})
	}
}

// The fake's MAC is cardcrypto.MAC under the MAC key it was given, the one
// cardcrypto's known-answer test pins to ISO/IEC 9797-1 Annex B.4.
func TestFakeMAC(t *testing.T) {
	r := newRig(t, nil)
	r.load(t)
	ctx := context.Background()
	data := []byte("0200 a message the acquirer MACs")
	mac, err := r.pp.CalculateMAC(ctx, pinpad.MACRequest{Data: data})
	if err != nil {
		t.Fatalf("CalculateMAC: %v", err)
	}
	want, err := cardcrypto.MAC(r.macKey, data)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(mac, want) {
		t.Fatalf("CalculateMAC = %X, want %X", mac, want)
	}
	if err := r.pp.VerifyMAC(ctx, pinpad.MACRequest{Data: data, MAC: want}); err != nil {
		t.Errorf("VerifyMAC of the right MAC: %v", err)
	}
	for name, bad := range map[string][]byte{"flipped": {mac[0] ^ 0x80, mac[1], mac[2], mac[3], mac[4], mac[5], mac[6], mac[7]}, "short": mac[:7], "long": append(slices.Clone(mac), 0)} {
		if err := r.pp.VerifyMAC(ctx, pinpad.MACRequest{Data: data, MAC: bad}); !errors.Is(err, pinpad.ErrBadMAC) {
			t.Errorf("VerifyMAC of a %s MAC: err = %v, want pinpad.ErrBadMAC", name, err)
		}
	}
	// A new sign-in's MAC key replaces the old one.
	r.load(t)
	if err := r.pp.VerifyMAC(ctx, pinpad.MACRequest{Data: data, MAC: want}); !errors.Is(err, pinpad.ErrBadMAC) {
		t.Errorf("VerifyMAC under the previous MAC key: err = %v, want pinpad.ErrBadMAC", err)
	}
}

func TestFakeEraseKeys(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	if err := r.pp.EraseKeys(ctx); err != nil {
		t.Fatalf("EraseKeys with no keys loaded: %v", err)
	}
	r.load(t)
	held := r.fake.heldKeys()
	if err := r.pp.EraseKeys(ctx); err != nil {
		t.Fatalf("EraseKeys: %v", err)
	}
	for name, k := range map[string][]byte{"PIN": held.pin, "MAC": held.mac, "track": held.track} {
		if len(k) != cardcrypto.KeySize || slices.ContainsFunc(k, func(b byte) bool { return b != 0 }) {
			t.Errorf("after EraseKeys the %s key's memory (%d bytes) is not overwritten with zeros", name, len(k))
		}
	}
	track, err := cardcrypto.EncryptTrack(r.trackKey, testcards.Cards[testcards.DefaultCard].Track())
	if err != nil {
		t.Fatal(err)
	}
	mac, err := cardcrypto.MAC(r.macKey, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"ReadCard":     func() error { _, err := r.pp.ReadCard(ctx, pinpad.ReadCardRequest{}); return err },
		"GetPIN":       func() error { _, err := r.pp.GetPIN(ctx, pinpad.PINRequest{EncryptedTrack: track}); return err },
		"CalculateMAC": func() error { _, err := r.pp.CalculateMAC(ctx, pinpad.MACRequest{Data: []byte("x")}); return err },
		"VerifyMAC":    func() error { return r.pp.VerifyMAC(ctx, pinpad.MACRequest{Data: []byte("x"), MAC: mac}) },
	} {
		if err := call(); !errors.Is(err, pinpad.ErrKeysNotLoaded) {
			t.Errorf("%s after EraseKeys: err = %v, want pinpad.ErrKeysNotLoaded", name, err)
		}
	}
	if err := r.pp.Display(ctx, []string{"PROTECTION MODE"}); err != nil {
		t.Errorf("Display after EraseKeys: %v", err)
	}
	r.load(t)
	if pan, pin := r.readAndPIN(t); pan != testcards.Cards[testcards.DefaultCard].PAN || pin != testcards.Cards[testcards.DefaultCard].PIN {
		t.Errorf("after a new LoadWorkingKeys: card %s", cardcrypto.MaskPAN(pan))
	}
}

// Configure and a new LoadWorkingKeys overwrite the keys held before, as
// EraseKeys does.
func TestFakeReplacedKeysAreErased(t *testing.T) {
	r := newRig(t, nil)
	for name, replace := range map[string]func(){
		"LoadWorkingKeys": func() { r.load(t) },
		"Configure": func() {
			if err := r.pp.Configure(context.Background(), pinpad.APIVersion1, nil); err != nil {
				t.Fatal(err)
			}
		},
	} {
		r.load(t)
		held := r.fake.heldKeys()
		replace()
		if slices.ContainsFunc(slices.Concat(held.pin, held.mac, held.track), func(b byte) bool { return b != 0 }) {
			t.Errorf("after %s the old keys' memory is not overwritten with zeros", name)
		}
	}
}

// heldKeys returns the key slices the Fake holds (white box).
func (f *Fake) heldKeys() *workingKeys {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.keys
}
