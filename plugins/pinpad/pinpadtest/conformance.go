package pinpadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

// macMessage is what the suite MACs: 27 bytes, so the last block is padded.
var macMessage = []byte("0200 6222020000040128 12345")

// RunConformance checks that a PIN pad implementation keeps the
// pinpad.PinPad contract, talking to it only through gRPC as the runtime
// does: Info, API version negotiation, Health, refusal of card and MAC calls
// before sign-in, loading working keys wrapped under the TMK (and refusing a
// key whose check value does not match), a card read that yields only a
// masked PAN and a track encrypted under the track key, a PIN block under
// the PIN key that decodes to the cardholder's PIN, Display, the ANSI X9.19
// MAC under the MAC key (CalculateMAC equals cardcrypto.MAC under the clear
// key the suite wrapped; VerifyMAC accepts it and refuses any other with
// pinpad.ErrBadMAC), EraseKeys (every call needing a key is then refused
// with pinpad.ErrKeysNotLoaded) and a second LoadWorkingKeys whose fresh
// keys every call then uses. The MAC and erase steps run when Info lists
// pinpad.CapabilityMAC and pinpad.CapabilityEraseKeys, and are skipped
// otherwise. The steps depend on each other; the first failure stops the
// suite.
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
	s := &suite{h: h, pp: pp, ctx: ctx}
	s.keys = s.newKeys()
	pinKey, macKey, trackKey := s.keys.pin, s.keys.mac, s.keys.track

	basetest.RunBase(t, ctx, pp, basetest.Base{Kind: base.KindPinPad, APIVersion: pinpad.APIVersion1, Config: h.Config})
	info, err := pp.Info(ctx)
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	hasMAC, hasErase := info.Has(pinpad.CapabilityMAC), info.Has(pinpad.CapabilityEraseKeys)
	needs := func(t *testing.T, have bool, capability string) {
		t.Helper()
		if !have {
			t.Skipf("Info.Capabilities does not list %s", capability)
		}
	}

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
	basetest.Step(t, "MACBeforeKeysIsRefused", func(t *testing.T) {
		needs(t, hasMAC, pinpad.CapabilityMAC)
		s.macCallsRefused(t, "before LoadWorkingKeys")
	})
	basetest.Step(t, "LoadWorkingKeysRejectsWrongCheckValue", func(t *testing.T) {
		bad := s.wrap(t, macKey)
		bad.CheckValue = slices.Clone(bad.CheckValue)
		bad.CheckValue[0] ^= 0xFF
		keys := pinpad.WorkingKeys{PIN: s.wrap(t, pinKey), MAC: bad, Track: s.wrap(t, trackKey)}
		if err := pp.LoadWorkingKeys(ctx, keys); !errors.Is(err, pinpad.ErrKeyCheck) {
			t.Errorf("LoadWorkingKeys with a wrong MAC key check value: err = %v, want pinpad.ErrKeyCheck", err)
		}
	})
	basetest.Step(t, "LoadWorkingKeys", func(t *testing.T) {
		s.load(t, s.keys)
	})
	var card pinpad.Card
	basetest.Step(t, "ReadCard", func(t *testing.T) {
		card = s.readCard(t)
	})
	basetest.Step(t, "GetPIN", func(t *testing.T) {
		s.getPIN(t, card)
	})
	basetest.Step(t, "Display", func(t *testing.T) {
		if err := pp.Display(ctx, []string{"AMOUNT (yuan)", "123.45"}); err != nil {
			t.Errorf("Display: %v", err)
		}
	})
	var mac []byte
	basetest.Step(t, "CalculateMAC", func(t *testing.T) {
		needs(t, hasMAC, pinpad.CapabilityMAC)
		mac = s.calculateMAC(t)
	})
	basetest.Step(t, "VerifyMAC", func(t *testing.T) {
		needs(t, hasMAC, pinpad.CapabilityMAC)
		s.verifyMAC(t, mac)
	})
	basetest.Step(t, "EraseKeys", func(t *testing.T) {
		needs(t, hasErase, pinpad.CapabilityEraseKeys)
		if err := pp.EraseKeys(ctx); err != nil {
			t.Fatalf("EraseKeys: %v", err)
		}
		if _, err := pp.ReadCard(ctx, pinpad.ReadCardRequest{Amount: 100}); !errors.Is(err, pinpad.ErrKeysNotLoaded) {
			t.Errorf("ReadCard after EraseKeys: err = %v, want pinpad.ErrKeysNotLoaded", err)
		}
		if _, err := pp.GetPIN(ctx, pinpad.PINRequest{Amount: 100, EncryptedTrack: card.EncryptedTrack}); !errors.Is(err, pinpad.ErrKeysNotLoaded) {
			t.Errorf("GetPIN after EraseKeys: err = %v, want pinpad.ErrKeysNotLoaded", err)
		}
		if hasMAC {
			s.macCallsRefused(t, "after EraseKeys")
		}
	})
	basetest.Step(t, "LoadWorkingKeysRestores", func(t *testing.T) {
		// A fresh sign-in: new keys, which every call must now use.
		s.keys = s.newKeys()
		s.load(t, s.keys)
		s.getPIN(t, s.readCard(t))
		if hasMAC {
			s.verifyMAC(t, s.calculateMAC(t))
		}
	})
	basetest.Step(t, "InjectMasterKey", func(t *testing.T) {
		needs(t, info.Has(pinpad.CapabilityInjectMasterKey), pinpad.CapabilityInjectMasterKey)
		s.injectMasterKey(t)
	})
}

// injectMasterKey checks key injection: a key whose check value does not
// match is refused with pinpad.ErrKeyCheck and changes nothing; a new key
// erases the working keys, and working keys load under it and no longer
// under the old one. The harness's TMK is injected back at the end.
func (s *suite) injectMasterKey(t *testing.T) {
	t.Helper()
	inject := func(key []byte, kcv []byte) error {
		return s.pp.InjectMasterKey(s.ctx, pinpad.MasterKey{Key: slices.Clone(key), CheckValue: kcv})
	}
	kcvOf := func(key []byte) []byte { v, _ := cardcrypto.CheckValue(key); return v[:3] }
	next := cardcrypto.NewKey()
	if err := inject(next, kcvOf(cardcrypto.NewKey())); !errors.Is(err, pinpad.ErrKeyCheck) {
		t.Fatalf("InjectMasterKey with another key's check value: err = %v, want pinpad.ErrKeyCheck", err)
	}
	s.getPIN(t, s.readCard(t)) // the refused key changed nothing
	if err := inject(next, kcvOf(next)); err != nil {
		t.Fatalf("InjectMasterKey: %v", err)
	}
	if _, err := s.pp.ReadCard(s.ctx, pinpad.ReadCardRequest{Amount: 100}); !errors.Is(err, pinpad.ErrKeysNotLoaded) {
		t.Errorf("ReadCard after a new master key: err = %v, want pinpad.ErrKeysNotLoaded (working keys erased)", err)
	}
	old := s.h.TMK
	s.keys = s.newKeys()
	under := func(tmk []byte) error {
		s.h.TMK = tmk
		keys := pinpad.WorkingKeys{PIN: s.wrap(t, s.keys.pin), MAC: s.wrap(t, s.keys.mac), Track: s.wrap(t, s.keys.track)}
		return s.pp.LoadWorkingKeys(s.ctx, keys)
	}
	if err := under(old); !errors.Is(err, pinpad.ErrKeyCheck) {
		t.Errorf("LoadWorkingKeys under the old master key: err = %v, want pinpad.ErrKeyCheck", err)
	}
	if err := under(next); err != nil {
		t.Fatalf("LoadWorkingKeys under the injected master key: %v", err)
	}
	s.getPIN(t, s.readCard(t))
	if err := inject(old, kcvOf(old)); err != nil {
		t.Fatalf("InjectMasterKey of the harness's key back: %v", err)
	}
	s.h.TMK = old
}

// suite is the state RunConformance's steps share.
type suite struct {
	h    Harness
	pp   pinpad.PinPad
	ctx  context.Context
	keys clearKeys // the keys loaded last, in clear
}

// clearKeys are working keys the suite made and wraps under the TMK itself,
// so it can check what the PIN pad does with them.
type clearKeys struct{ pin, mac, track []byte }

func (s *suite) newKeys() clearKeys {
	return clearKeys{pin: cardcrypto.NewKey(), mac: cardcrypto.NewKey(), track: cardcrypto.NewKey()}
}

func (s *suite) wrap(t *testing.T, key []byte) pinpad.WorkingKey {
	t.Helper()
	enc, kcv, err := cardcrypto.Wrap(s.h.TMK, key)
	if err != nil {
		t.Fatalf("wrapping a working key: %v", err)
	}
	return pinpad.WorkingKey{Encrypted: enc, CheckValue: kcv}
}

func (s *suite) load(t *testing.T, k clearKeys) {
	t.Helper()
	keys := pinpad.WorkingKeys{PIN: s.wrap(t, k.pin), MAC: s.wrap(t, k.mac), Track: s.wrap(t, k.track)}
	if err := s.pp.LoadWorkingKeys(s.ctx, keys); err != nil {
		t.Fatalf("LoadWorkingKeys: %v", err)
	}
}

// readCard reads the card and checks it against the harness's PAN and the
// track key loaded last.
func (s *suite) readCard(t *testing.T) pinpad.Card {
	t.Helper()
	h := s.h
	card, err := s.pp.ReadCard(s.ctx, pinpad.ReadCardRequest{Amount: 12345})
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
	checkChipData(t, card, 12345, h.PAN)
	track, err := cardcrypto.DecryptTrack(s.keys.track, card.EncryptedTrack)
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
	return card
}

// getPIN asks for the PIN of card and checks the block under the PIN key
// loaded last.
func (s *suite) getPIN(t *testing.T, card pinpad.Card) {
	t.Helper()
	block, err := s.pp.GetPIN(s.ctx, pinpad.PINRequest{Amount: 12345, EncryptedTrack: card.EncryptedTrack})
	if err != nil {
		t.Fatalf("GetPIN: %v", err)
	}
	if len(block) != 8 {
		t.Fatalf("GetPIN: a %d-byte block, want 8", len(block))
	}
	pin, err := cardcrypto.PIN(s.keys.pin, block, s.h.PAN)
	if err != nil {
		t.Fatalf("GetPIN: the block is not an ISO 9564 format 0 block under the PIN key for the card's PAN: %v", err)
	}
	if pin != s.h.PIN {
		t.Error("GetPIN: the block holds another PIN than the cardholder entered")
	}
}

// calculateMAC MACs macMessage and an empty message and checks both
// against cardcrypto.MAC under the MAC key loaded last.
func (s *suite) calculateMAC(t *testing.T) []byte {
	t.Helper()
	var first []byte
	for _, data := range [][]byte{macMessage, nil} {
		mac, err := s.pp.CalculateMAC(s.ctx, pinpad.MACRequest{Data: data})
		if err != nil {
			t.Fatalf("CalculateMAC of %d bytes: %v", len(data), err)
		}
		want, err := cardcrypto.MAC(s.keys.mac, data)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mac, want) {
			t.Fatalf("CalculateMAC of %d bytes = %X, want the ANSI X9.19 MAC under the loaded MAC key, %X", len(data), mac, want)
		}
		if first == nil {
			first = mac
		}
	}
	return first
}

// verifyMAC checks that mac, macMessage's MAC, verifies and that a flipped
// bit in the MAC or the message, a MAC under another key or a truncated
// MAC does not.
func (s *suite) verifyMAC(t *testing.T, mac []byte) {
	t.Helper()
	if err := s.pp.VerifyMAC(s.ctx, pinpad.MACRequest{Data: macMessage, MAC: mac}); err != nil {
		t.Fatalf("VerifyMAC of the MAC CalculateMAC returned: %v", err)
	}
	flipped := func(b []byte, i int) []byte {
		b = slices.Clone(b)
		b[i] ^= 0x01
		return b
	}
	foreign, err := cardcrypto.MAC(cardcrypto.NewKey(), macMessage)
	if err != nil {
		t.Fatal(err)
	}
	for name, req := range map[string]pinpad.MACRequest{
		"a bit flipped in the MAC":     {Data: macMessage, MAC: flipped(mac, len(mac)-1)},
		"a bit flipped in the message": {Data: flipped(macMessage, 0), MAC: mac},
		"a MAC under another key":      {Data: macMessage, MAC: foreign},
		"the MAC's first 4 bytes":      {Data: macMessage, MAC: mac[:4]},
		"no MAC":                       {Data: macMessage},
	} {
		if err := s.pp.VerifyMAC(s.ctx, req); !errors.Is(err, pinpad.ErrBadMAC) {
			t.Errorf("VerifyMAC with %s: err = %v, want pinpad.ErrBadMAC", name, err)
		}
	}
}

// macCallsRefused checks that both MAC calls fail with ErrKeysNotLoaded.
func (s *suite) macCallsRefused(t *testing.T, when string) {
	t.Helper()
	if mac, err := s.pp.CalculateMAC(s.ctx, pinpad.MACRequest{Data: macMessage}); !errors.Is(err, pinpad.ErrKeysNotLoaded) {
		t.Errorf("CalculateMAC %s: %X, err = %v, want pinpad.ErrKeysNotLoaded", when, mac, err)
	}
	mac, err := cardcrypto.MAC(s.keys.mac, macMessage)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.pp.VerifyMAC(s.ctx, pinpad.MACRequest{Data: macMessage, MAC: mac}); !errors.Is(err, pinpad.ErrKeysNotLoaded) {
		t.Errorf("VerifyMAC %s: err = %v, want pinpad.ErrKeysNotLoaded", when, err)
	}
}

// checkChipData checks a chip card's EMV data: a three-digit sequence
// number and ICC data in BER-TLV holding the amount authorised (9F02,
// twelve BCD digits) and an application cryptogram (9F26, eight bytes),
// without the clear PAN; a swiped card has neither.
func checkChipData(t *testing.T, card pinpad.Card, amount int64, pan string) {
	t.Helper()
	if card.EntryMode == pinpad.EntrySwipe {
		if card.SequenceNumber != "" || len(card.ICCData) != 0 {
			t.Errorf("ReadCard: a swiped card with a sequence number %q or ICC data", card.SequenceNumber)
		}
		return
	}
	if len(card.SequenceNumber) != 3 || strings.Trim(card.SequenceNumber, "0123456789") != "" {
		t.Errorf("ReadCard: chip card sequence number %q, want three digits", card.SequenceNumber)
	}
	tags, err := testcards.ParseTLV(card.ICCData)
	if err != nil {
		t.Fatalf("ReadCard: ICC data %X: %v", card.ICCData, err)
	}
	if got, want := fmt.Sprintf("%X", tags["9F02"]), fmt.Sprintf("%012d", amount); got != want {
		t.Errorf("ReadCard: ICC data amount (9F02) %s, want %s", got, want)
	}
	if len(tags["9F26"]) != 8 {
		t.Errorf("ReadCard: ICC data cryptogram (9F26) %X, want 8 bytes", tags["9F26"])
	}
	if bytes.Contains(card.ICCData, []byte(pan)) {
		t.Error("ReadCard: ICCData holds the clear PAN")
	}
}
