package fake

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/internal/faults"
	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
	"github.com/posrt/posrt/plugins/pinpad/testcards"
)

// Values of the "pin" configuration key besides explicit digits.
const (
	PINCorrect = "correct"
	PINWrong   = "wrong"
)

// Fake is an in-memory PIN pad whose behaviour is set by configuration keys
// (see plugins/pinpad/README.md). NewFake returns it ready with the default
// configuration; Configure replaces the configuration and erases loaded
// working keys, as re-initialising a PIN pad does. It has the optional MAC
// and key-erase methods and says so in Info. It is safe for concurrent use.
type Fake struct {
	// faults injects latency and crashes; tests in this package replace
	// faults.Exit.
	faults faults.Faults

	mon       base.Monitor
	mu        sync.Mutex
	atc       uint16 // the chip card's application transaction counter
	cfg       config
	keys      *workingKeys // nil until LoadWorkingKeys succeeds and after EraseKeys
	displayed []string
}

var _ pinpad.PinPad = (*Fake)(nil)

type config struct {
	card      testcards.Card
	entryMode string
	pin       string // the PIN the cardholder types
	tmk       []byte
	cancel    bool
	connected bool
}

// workingKeys are the clear working keys; they never leave the Fake. A
// device call works on its own copy (clone) and erases it when done, so the
// Fake can erase the keys it holds at any time.
type workingKeys struct {
	pin, mac, track []byte
}

func (k *workingKeys) clone() *workingKeys {
	if k == nil {
		return nil
	}
	return &workingKeys{pin: slices.Clone(k.pin), mac: slices.Clone(k.mac), track: slices.Clone(k.track)}
}

func (k *workingKeys) erase() {
	if k == nil {
		return
	}
	clear(k.pin)
	clear(k.mac)
	clear(k.track)
}

// NewFake returns a connected fake PIN pad presenting DefaultCard by insert,
// with no working keys loaded.
func NewFake() *Fake {
	cfg, _ := parseConfig(nil) // the defaults always parse
	f := &Fake{cfg: cfg}
	f.mon.Set(f.healthLocked())
	return f
}

// fakeInfo is what the Fake's Info reports.
func fakeInfo() base.Info {
	return base.Info{
		Kind: base.KindPinPad, Name: "fake-pinpad", Version: "0.1.0", APIVersions: pinpad.APIVersions,
		Capabilities: []string{pinpad.CapabilityMAC, pinpad.CapabilityEraseKeys, pinpad.CapabilityInjectMasterKey},
	}
}

// Info implements base.Base.
func (f *Fake) Info(context.Context) (base.Info, error) { return fakeInfo(), nil }

// Configure implements base.Base. It checks every key before it changes
// anything, so a rejected configuration leaves the Fake as it was.
func (f *Fake) Configure(_ context.Context, apiVersion string, config map[string]string) error {
	cfg, fs, err := faults.Prepare(fakeInfo(), apiVersion, config, parseConfig)
	if err != nil {
		return err
	}
	f.faults.Set(fs)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys.erase()
	f.cfg, f.keys, f.displayed = cfg, nil, nil
	f.mon.Set(f.healthLocked())
	return nil
}

// Health implements base.Base: idle, or offline when configured as not
// connected.
func (f *Fake) Health(context.Context) (base.Health, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.healthLocked(), nil
}

// Watch implements base.Watcher: the state at once and at each Configure
// that changes it.
func (f *Fake) Watch(ctx context.Context, send func(base.Event) error) error {
	return f.mon.Watch(ctx, send)
}

func (f *Fake) healthLocked() base.Health {
	if !f.cfg.connected {
		return base.Health{State: base.StateOffline, Detail: pinpad.ErrNotConnected.Error()}
	}
	return base.Health{State: base.StateIdle}
}

// begin starts a device call: it injects the configured faults and fails
// when the PIN pad is not connected. It returns the configuration the call
// works with.
func (f *Fake) begin(ctx context.Context) (config, error) {
	cfg, _, err := f.start(ctx, false)
	return cfg, err
}

// beginWithKeys is begin for a call that uses the working keys: it also
// returns a copy of them, which the caller erases when it is done, or fails
// with pinpad.ErrKeysNotLoaded when none are loaded.
func (f *Fake) beginWithKeys(ctx context.Context) (config, *workingKeys, error) {
	return f.start(ctx, true)
}

func (f *Fake) start(ctx context.Context, withKeys bool) (config, *workingKeys, error) {
	if err := f.faults.Call(ctx); err != nil {
		return config{}, nil, err
	}
	if err := ctx.Err(); err != nil {
		return config{}, nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.cfg.connected {
		return config{}, nil, pinpad.ErrNotConnected
	}
	if !withKeys {
		return f.cfg, nil, nil
	}
	if f.keys == nil {
		return config{}, nil, pinpad.ErrKeysNotLoaded
	}
	return f.cfg, f.keys.clone(), nil
}

// ReadCard implements pinpad.PinPad: it presents the configured card.
func (f *Fake) ReadCard(ctx context.Context, req pinpad.ReadCardRequest) (pinpad.Card, error) {
	cfg, keys, err := f.beginWithKeys(ctx)
	if err != nil {
		return pinpad.Card{}, err
	}
	defer keys.erase()
	if cfg.cancel {
		return pinpad.Card{}, pinpad.ErrCancelled
	}
	if len(req.EntryModes) > 0 && !slices.Contains(req.EntryModes, cfg.entryMode) {
		return pinpad.Card{}, fmt.Errorf("%w: card presented by %s, only %s allowed", pinpad.ErrCardRead, cfg.entryMode, strings.Join(req.EntryModes, ", "))
	}
	track, err := cardcrypto.EncryptTrack(keys.track, cfg.card.Track())
	if err != nil {
		return pinpad.Card{}, fmt.Errorf("encrypting the track: %w", err)
	}
	c := pinpad.Card{
		MaskedPAN:      cardcrypto.MaskPAN(cfg.card.PAN),
		Expiry:         cfg.card.Expiry,
		EntryMode:      cfg.entryMode,
		EncryptedTrack: track,
	}
	if cfg.entryMode != pinpad.EntrySwipe { // a chip answers the sale's EMV data
		f.mu.Lock()
		f.atc++
		atc := f.atc
		f.mu.Unlock()
		c.SequenceNumber, c.ICCData = testcards.ChipSequenceNumber, testcards.ICCData(cfg.card, uint64(max(req.Amount, 0)), atc)
	}
	return c, nil
}

// GetPIN implements pinpad.PinPad: the cardholder types the configured PIN,
// and the block is bound to the PAN inside req.EncryptedTrack.
func (f *Fake) GetPIN(ctx context.Context, req pinpad.PINRequest) (pinpad.PINBlock, error) {
	cfg, keys, err := f.beginWithKeys(ctx)
	if err != nil {
		return nil, err
	}
	defer keys.erase()
	track, err := cardcrypto.DecryptTrack(keys.track, req.EncryptedTrack)
	if err != nil {
		return nil, fmt.Errorf("%w: encrypted track is malformed", pinpad.ErrCardRead)
	}
	pan, _, err := cardcrypto.ParseTrack(track)
	if err != nil {
		return nil, fmt.Errorf("%w: encrypted track does not decrypt under the loaded track key", pinpad.ErrCardRead)
	}
	if cfg.cancel {
		return nil, pinpad.ErrCancelled
	}
	block, err := cardcrypto.PINBlock(keys.pin, cfg.pin, pan)
	if err != nil {
		// cardcrypto's messages name neither the PIN nor the PAN.
		return nil, fmt.Errorf("building the PIN block: %w", err)
	}
	return block, nil
}

// Display implements pinpad.PinPad; Displayed returns the lines.
func (f *Fake) Display(ctx context.Context, lines []string) error {
	if _, err := f.begin(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.displayed = slices.Clone(lines)
	return nil
}

// Displayed returns the lines of the last successful Display, nil before
// the first one.
func (f *Fake) Displayed() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.displayed)
}

// LoadWorkingKeys implements pinpad.PinPad. It unwraps the three keys under
// the terminal master key and replaces the loaded keys only when all three
// match their check values; otherwise the keys loaded before stay in use.
func (f *Fake) LoadWorkingKeys(ctx context.Context, keys pinpad.WorkingKeys) error {
	cfg, err := f.begin(ctx)
	if err != nil {
		return err
	}
	next := &workingKeys{}
	for _, k := range []struct {
		name string
		in   pinpad.WorkingKey
		out  *[]byte
	}{
		{"PIN", keys.PIN, &next.pin},
		{"MAC", keys.MAC, &next.mac},
		{"track", keys.Track, &next.track},
	} {
		clearKey, err := cardcrypto.Unwrap(cfg.tmk, k.in.Encrypted, k.in.CheckValue)
		if err != nil {
			next.erase()
			if errors.Is(err, cardcrypto.ErrCheckValue) {
				return fmt.Errorf("loading the %s key: %w", k.name, pinpad.ErrKeyCheck)
			}
			return fmt.Errorf("loading the %s key: %w", k.name, err)
		}
		*k.out = clearKey
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Equal(f.cfg.tmk, cfg.tmk) {
		// Reconfigured with another master key meanwhile.
		next.erase()
		return errors.New("loading working keys: the terminal master key changed during the load")
	}
	f.keys.erase()
	f.keys = next
	return nil
}

// CalculateMAC implements pinpad.PinPad: the ANSI X9.19 MAC of req.Data
// under the MAC key loaded last.
func (f *Fake) CalculateMAC(ctx context.Context, req pinpad.MACRequest) ([]byte, error) {
	_, keys, err := f.beginWithKeys(ctx)
	if err != nil {
		return nil, err
	}
	defer keys.erase()
	mac, err := cardcrypto.MAC(keys.mac, req.Data)
	if err != nil {
		return nil, fmt.Errorf("calculating the MAC: %w", err)
	}
	return mac, nil
}

// VerifyMAC implements pinpad.PinPad: req.MAC must be the 8-byte ANSI X9.19
// MAC of req.Data under the MAC key loaded last; anything else is
// pinpad.ErrBadMAC. The comparison takes constant time.
func (f *Fake) VerifyMAC(ctx context.Context, req pinpad.MACRequest) error {
	_, keys, err := f.beginWithKeys(ctx)
	if err != nil {
		return err
	}
	defer keys.erase()
	if len(req.MAC) != pinpad.MACSize {
		return fmt.Errorf("%w: a %d-byte MAC, want %d", pinpad.ErrBadMAC, len(req.MAC), pinpad.MACSize)
	}
	want, err := cardcrypto.MAC(keys.mac, req.Data)
	if err != nil {
		return fmt.Errorf("calculating the MAC: %w", err)
	}
	if subtle.ConstantTimeCompare(want, req.MAC) != 1 {
		return pinpad.ErrBadMAC
	}
	return nil
}

// EraseKeys implements pinpad.PinPad: it overwrites the working keys it
// holds with zeros and forgets them. Erasing when no keys are loaded
// succeeds. Only a disconnected PIN pad refuses (pinpad.ErrNotConnected).
func (f *Fake) EraseKeys(ctx context.Context) error {
	if _, err := f.begin(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys.erase()
	f.keys = nil
	return nil
}

// InjectMasterKey implements pinpad.PinPad: the key, checked against its
// check value, replaces the master key (the configured tmk, the fake's
// factory key) until the next Configure, and the working keys are erased.
func (f *Fake) InjectMasterKey(ctx context.Context, key pinpad.MasterKey) error {
	if _, err := f.begin(ctx); err != nil {
		return err
	}
	if err := cardcrypto.VerifyCheckValue(key.Key, key.CheckValue); err != nil {
		return fmt.Errorf("injecting the master key: %w", pinpad.ErrKeyCheck)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg.tmk = slices.Clone(key.Key)
	f.keys.erase()
	f.keys = nil
	return nil
}

func parseConfig(m map[string]string) (config, error) {
	c := config{card: testcards.Cards[testcards.DefaultCard], entryMode: pinpad.EntryInsert, tmk: testcards.TestTMK(), connected: true}
	pin := PINCorrect
	keys := []string{"card", "entry_mode", "pin", "tmk", "cancel", "connected", "latency", "crash_after"} // the last two read by faults.Parse
	err := base.EachConfigKey(m, "fake-pinpad", keys, func(k base.ConfigKey) error {
		if k.Value == "" {
			return nil // the default
		}
		var err error
		switch k.Name {
		case "card":
			card, ok := testcards.Cards[k.Value]
			if !ok {
				return k.Bad("a test card (" + strings.Join(cardNames(), ", ") + ")")
			}
			c.card = card
		case "entry_mode":
			switch k.Value {
			case pinpad.EntrySwipe, pinpad.EntryInsert, pinpad.EntryTap:
				c.entryMode = k.Value
			default:
				return k.Bad("swipe, insert or tap")
			}
		case "pin":
			if k.Value != PINCorrect && k.Value != PINWrong && !isPIN(k.Value) {
				return k.Bad("correct, wrong or a PIN of 4 to 12 digits")
			}
			pin = k.Value
		case "tmk":
			tmk, err := hex.DecodeString(k.Value)
			if err != nil || len(tmk) != cardcrypto.KeySize {
				return k.Bad(fmt.Sprintf("a %d-byte key in hex", cardcrypto.KeySize))
			}
			c.tmk = tmk
		case "cancel":
			c.cancel, err = k.Bool()
		case "connected":
			c.connected, err = k.Bool()
		}
		return err
	})
	if err != nil {
		return config{}, err
	}
	switch pin {
	case PINCorrect:
		c.pin = c.card.PIN
	case PINWrong:
		c.pin = wrongPIN(c.card.PIN)
	default:
		c.pin = pin
	}
	return c, nil
}

func cardNames() []string {
	names := make([]string, 0, len(testcards.Cards))
	for n := range testcards.Cards {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func isPIN(s string) bool {
	return len(s) >= 4 && len(s) <= 12 && strings.Trim(s, "0123456789") == ""
}

// wrongPIN returns a 6-digit PIN that differs from pin: each of the first
// six digits (zeros past its end) plus one, modulo ten.
func wrongPIN(pin string) string {
	var b strings.Builder
	for i := range 6 {
		d := byte('0')
		if i < len(pin) {
			d = pin[i]
		}
		b.WriteByte('0' + (d-'0'+1)%10)
	}
	return b.String()
}
