package pinpadtest

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/pinpad/testcards"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
)

// Harness describes a PIN pad implementation to RunConformance.
type Harness struct {
	// New returns a fresh implementation with no working keys loaded. It is
	// called once.
	New func(t *testing.T) pinpad.PinPad
	// Config is passed to Configure. With it the PIN pad must be connected
	// and must present the card below, by any entry mode, and enter PIN.
	Config map[string]string
	// TMK is the terminal master key the PIN pad holds; default testcards.TestTMK().
	TMK []byte
	// PAN is the card the PIN pad presents and PIN the PIN its cardholder
	// enters; default those of testcards.DefaultCard.
	PAN string
	PIN string
}

// Connect serves impl through real go-plugin gRPC in this process and
// returns the host-side client. Both ends are closed when t ends.
func Connect(t testing.TB, impl pinpad.PinPad) pinpad.PinPad {
	t.Helper()
	return basetest.Connect[pinpad.PinPad](t, base.KindPinPad, pinpad.NewPlugin(impl))
}

var maskedPANPattern = regexp.MustCompile(`^\d{6}\*+\d{4}$`)

// RunConformance checks that a PIN pad implementation keeps the
// pinpad.PinPad contract, talking to it only through gRPC as the runtime
// does: Info, API version negotiation, Health, refusal of card calls before
// sign-in, loading working keys wrapped under the TMK (and refusing a key
// whose check value does not match), a card read that yields only a masked
// PAN and a track encrypted under the track key, a PIN block under the PIN
// key that decodes to the cardholder's PIN, and Display. The steps depend on
// each other; the first failure stops the suite.
func RunConformance(t *testing.T, h Harness) {
	if h.New == nil {
		t.Fatal("Harness.New is nil")
	}
	if h.TMK == nil {
		h.TMK = testcards.TestTMK()
	}
	if h.PAN == "" {
		h.PAN = testcards.Cards[testcards.DefaultCard].PAN
	}
	if h.PIN == "" {
		h.PIN = testcards.Cards[testcards.DefaultCard].PIN
	}
	pp := Connect(t, h.New(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pinKey, macKey, trackKey := cardcrypto.NewKey(), cardcrypto.NewKey(), cardcrypto.NewKey()
	wrap := func(t *testing.T, key []byte) pinpad.WorkingKey {
		t.Helper()
		enc, kcv, err := cardcrypto.Wrap(h.TMK, key)
		if err != nil {
			t.Fatalf("wrapping a working key: %v", err)
		}
		return pinpad.WorkingKey{Encrypted: enc, CheckValue: kcv}
	}

	basetest.RunBase(t, ctx, pp, basetest.Base{Kind: base.KindPinPad, APIVersion: pinpad.APIVersion1, Config: h.Config})
	basetest.Step(t, "CardCallsBeforeKeysAreRefused", func(t *testing.T) {
		if _, err := pp.ReadCard(ctx, pinpad.ReadCardRequest{Amount: 100}); !errors.Is(err, pinpad.ErrKeysNotLoaded) {
			t.Errorf("ReadCard before LoadWorkingKeys: err = %v, want pinpad.ErrKeysNotLoaded", err)
		}
		track, err := cardcrypto.EncryptTrack(trackKey, h.PAN+"=3012")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pp.GetPIN(ctx, pinpad.PINRequest{Amount: 100, EncryptedTrack: track}); !errors.Is(err, pinpad.ErrKeysNotLoaded) {
			t.Errorf("GetPIN before LoadWorkingKeys: err = %v, want pinpad.ErrKeysNotLoaded", err)
		}
	})
	basetest.Step(t, "LoadWorkingKeysRejectsWrongCheckValue", func(t *testing.T) {
		bad := wrap(t, macKey)
		bad.CheckValue = slices.Clone(bad.CheckValue)
		bad.CheckValue[0] ^= 0xFF
		keys := pinpad.WorkingKeys{PIN: wrap(t, pinKey), MAC: bad, Track: wrap(t, trackKey)}
		if err := pp.LoadWorkingKeys(ctx, keys); !errors.Is(err, pinpad.ErrKeyCheck) {
			t.Errorf("LoadWorkingKeys with a wrong MAC key check value: err = %v, want pinpad.ErrKeyCheck", err)
		}
	})
	basetest.Step(t, "LoadWorkingKeys", func(t *testing.T) {
		keys := pinpad.WorkingKeys{PIN: wrap(t, pinKey), MAC: wrap(t, macKey), Track: wrap(t, trackKey)}
		if err := pp.LoadWorkingKeys(ctx, keys); err != nil {
			t.Fatalf("LoadWorkingKeys: %v", err)
		}
	})
	var card pinpad.Card
	basetest.Step(t, "ReadCard", func(t *testing.T) {
		var err error
		card, err = pp.ReadCard(ctx, pinpad.ReadCardRequest{Amount: 12345})
		if err != nil {
			t.Fatalf("ReadCard: %v", err)
		}
		if !maskedPANPattern.MatchString(card.MaskedPAN) || card.MaskedPAN != cardcrypto.MaskPAN(h.PAN) {
			t.Errorf("ReadCard: masked PAN %q, want %q", card.MaskedPAN, cardcrypto.MaskPAN(h.PAN))
		}
		if !slices.Contains([]string{pinpad.EntrySwipe, pinpad.EntryInsert, pinpad.EntryTap}, card.EntryMode) {
			t.Errorf("ReadCard: entry mode %q, want swipe, insert or tap", card.EntryMode)
		}
		for name, v := range map[string]string{"MaskedPAN": card.MaskedPAN, "Expiry": card.Expiry, "EntryMode": card.EntryMode} {
			if strings.Contains(v, h.PAN) {
				t.Errorf("ReadCard: %s holds the clear PAN", name)
			}
		}
		if bytes.Contains(card.EncryptedTrack, []byte(h.PAN)) {
			t.Error("ReadCard: EncryptedTrack holds the clear PAN")
		}
		track, err := cardcrypto.DecryptTrack(trackKey, card.EncryptedTrack)
		if err != nil {
			t.Fatalf("ReadCard: decrypting the track under the track key: %v", err)
		}
		pan, expiry, err := cardcrypto.ParseTrack(track)
		if err != nil {
			t.Fatalf("ReadCard: the encrypted track is not track 2 data under the loaded track key: %v", err)
		}
		if pan != h.PAN {
			t.Errorf("ReadCard: the track's PAN is %s, want %s", cardcrypto.MaskPAN(pan), cardcrypto.MaskPAN(h.PAN))
		}
		if card.Expiry != expiry {
			t.Errorf("ReadCard: expiry %q, the track says %q", card.Expiry, expiry)
		}
	})
	basetest.Step(t, "GetPIN", func(t *testing.T) {
		block, err := pp.GetPIN(ctx, pinpad.PINRequest{Amount: 12345, EncryptedTrack: card.EncryptedTrack})
		if err != nil {
			t.Fatalf("GetPIN: %v", err)
		}
		if len(block) != 8 {
			t.Fatalf("GetPIN: a %d-byte block, want 8", len(block))
		}
		pin, err := cardcrypto.PIN(pinKey, block, h.PAN)
		if err != nil {
			t.Fatalf("GetPIN: the block is not an ISO 9564 format 0 block under the PIN key for the card's PAN: %v", err)
		}
		if pin != h.PIN {
			t.Error("GetPIN: the block holds another PIN than the cardholder entered")
		}
	})
	basetest.Step(t, "Display", func(t *testing.T) {
		if err := pp.Display(ctx, []string{"AMOUNT (yuan)", "123.45"}); err != nil {
			t.Errorf("Display: %v", err)
		}
	})
}
