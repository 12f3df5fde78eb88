package device

import (
	"context"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
	"github.com/posrt/posrt/plugins/pinpad/serial/wire"
	"github.com/posrt/posrt/plugins/pinpad/testcards"
)

// Config is how the simulated PIN pad and its cardholder behave.
type Config struct {
	// Card is the card the cardholder presents; default
	// testcards.DefaultCard.
	Card testcards.Card
	// EntryMode is how it is presented; default pinpad.EntryInsert.
	EntryMode string
	// PIN is what the cardholder types on the keypad; default Card.PIN.
	PIN string
	// CancelKey makes the cardholder press the cancel key instead of
	// presenting the card or entering the PIN.
	CancelKey bool
	// Delay is how long the cardholder takes to present the card or enter
	// the PIN; the host's cancel command cuts it short.
	Delay time.Duration
	// MasterKey is the terminal master key injected at the factory; nil
	// leaves the device without one until the load-master-key command.
	MasterKey []byte
	// AckTimeout is how long the device waits for the host to ACK a
	// response; default 500 ms.
	AckTimeout time.Duration
}

// Device is a simulated serial PIN pad. It is safe for concurrent use.
type Device struct {
	mu        sync.Mutex
	cfg       Config
	tmk       []byte
	keys      *keys // nil until working keys load, and after erase
	displayed []string
	beeps     int
	atc       uint16 // EMV application transaction counter
}

type keys struct{ pin, mac, track []byte }

func (k *keys) erase() {
	if k != nil {
		clear(k.pin)
		clear(k.mac)
		clear(k.track)
	}
}

// New returns a simulated PIN pad configured by cfg.
func New(cfg Config) *Device {
	if cfg.Card.PAN == "" {
		cfg.Card = testcards.Cards[testcards.DefaultCard]
	}
	if cfg.EntryMode == "" {
		cfg.EntryMode = pinpad.EntryInsert
	}
	if cfg.PIN == "" {
		cfg.PIN = cfg.Card.PIN
	}
	if cfg.AckTimeout == 0 {
		cfg.AckTimeout = 500 * time.Millisecond
	}
	return &Device{cfg: cfg, tmk: slices.Clone(cfg.MasterKey)}
}

// Displayed returns the lines of the last display command.
func (d *Device) Displayed() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.displayed)
}

// Beeps returns how many beep commands the device obeyed.
func (d *Device) Beeps() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.beeps
}

// HasWorkingKeys says whether working keys are loaded.
func (d *Device) HasWorkingKeys() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.keys != nil
}

// Serve answers the commands arriving on rw until ctx ends or the line
// fails; it closes rw (when an io.Closer) before it returns. Each command
// is acknowledged as it arrives and answered by one response frame; the
// card and PIN commands run while later commands (the host's cancel) are
// received.
func (d *Device) Serve(ctx context.Context, rw io.ReadWriter) error {
	link := wire.NewLink(rw, d.cfg.AckTimeout, nil)
	defer link.Close()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = link.Close()
	}()
	var (
		wg      sync.WaitGroup
		pending context.CancelFunc // of the card or PIN command running
		pmu     sync.Mutex
	)
	defer wg.Wait()
	for {
		f, err := link.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		switch f.Command {
		case wire.CmdCancel:
			pmu.Lock()
			if pending != nil {
				pending()
			}
			pmu.Unlock()
			_ = link.Send(ctx, respond(f.Command, wire.StatusOK))
		case wire.CmdReadCard, wire.CmdGetPIN:
			opCtx, cancel := context.WithCancel(ctx)
			pmu.Lock()
			if pending != nil {
				pending()
			}
			pending = cancel
			pmu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer cancel()
				_ = link.Send(ctx, d.handle(opCtx, f))
			}()
		default:
			_ = link.Send(ctx, d.handle(ctx, f))
		}
	}
}

func respond(cmd wire.Command, st wire.Status, fields ...wire.Field) wire.Frame {
	return wire.Frame{Command: cmd | wire.Response, Fields: append([]wire.Field{{Tag: wire.TagStatus, Value: []byte{byte(st)}}}, fields...)}
}

func failure(cmd wire.Command, st wire.Status, why string) wire.Frame {
	return respond(cmd, st, wire.Field{Tag: wire.TagText, Value: []byte(why)})
}

func (d *Device) handle(ctx context.Context, f wire.Frame) wire.Frame {
	switch f.Command {
	case wire.CmdDisplay:
		var lines []string
		for _, l := range f.All(wire.TagLine) {
			lines = append(lines, string(l))
		}
		d.mu.Lock()
		d.displayed = lines
		d.mu.Unlock()
		return respond(f.Command, wire.StatusOK)
	case wire.CmdBeep:
		d.mu.Lock()
		d.beeps++
		d.mu.Unlock()
		return respond(f.Command, wire.StatusOK)
	case wire.CmdLoadMasterKey:
		return d.loadMasterKey(f)
	case wire.CmdLoadWorkingKeys:
		return d.loadWorkingKeys(f)
	case wire.CmdEraseKeys:
		d.mu.Lock()
		d.keys.erase()
		d.keys = nil
		d.mu.Unlock()
		return respond(f.Command, wire.StatusOK)
	case wire.CmdReadCard:
		return d.readCard(ctx, f)
	case wire.CmdGetPIN:
		return d.getPIN(ctx, f)
	case wire.CmdCalculateMAC, wire.CmdVerifyMAC:
		return d.mac(f)
	}
	return failure(f.Command, wire.StatusBadRequest, "unknown command")
}

func (d *Device) loadMasterKey(f wire.Frame) wire.Frame {
	key, _ := f.Get(wire.TagKey)
	kcv, _ := f.Get(wire.TagCheckValue)
	if len(key) != cardcrypto.KeySize {
		return failure(f.Command, wire.StatusBadRequest, "master key is not 16 bytes")
	}
	if err := cardcrypto.VerifyCheckValue(key, kcv); err != nil {
		return failure(f.Command, wire.StatusKeyCheck, "master key check value mismatch")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.tmk)
	d.tmk = slices.Clone(key)
	// Working keys wrapped under the old master key are gone with it.
	d.keys.erase()
	d.keys = nil
	return respond(f.Command, wire.StatusOK)
}

func (d *Device) loadWorkingKeys(f wire.Frame) wire.Frame {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tmk == nil {
		return failure(f.Command, wire.StatusNoMasterKey, "no master key")
	}
	next := &keys{}
	for _, k := range []struct {
		name     string
		enc, kcv wire.Tag
		out      *[]byte
	}{
		{"PIN", wire.TagPINKey, wire.TagPINKeyCheck, &next.pin},
		{"MAC", wire.TagMACKey, wire.TagMACKeyCheck, &next.mac},
		{"track", wire.TagTrackKey, wire.TagTrackKeyCheck, &next.track},
	} {
		enc, _ := f.Get(k.enc)
		kcv, _ := f.Get(k.kcv)
		clearKey, err := cardcrypto.Unwrap(d.tmk, enc, kcv)
		if err != nil {
			next.erase()
			if errors.Is(err, cardcrypto.ErrCheckValue) {
				return failure(f.Command, wire.StatusKeyCheck, k.name+" key check value mismatch")
			}
			return failure(f.Command, wire.StatusBadRequest, k.name+" key malformed")
		}
		*k.out = clearKey
	}
	d.keys.erase()
	d.keys = next
	return respond(f.Command, wire.StatusOK)
}

// withKeys returns a copy of the working keys, which the caller erases.
func (d *Device) withKeys() (*keys, Config, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.keys == nil {
		return nil, d.cfg, false
	}
	return &keys{pin: slices.Clone(d.keys.pin), mac: slices.Clone(d.keys.mac), track: slices.Clone(d.keys.track)}, d.cfg, true
}

// cardholder waits the cardholder's delay; false when the host cancelled.
func cardholder(ctx context.Context, cfg Config) bool {
	if cfg.Delay <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(cfg.Delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

var modeBits = map[string]byte{pinpad.EntrySwipe: wire.ModeSwipe, pinpad.EntryInsert: wire.ModeInsert, pinpad.EntryTap: wire.ModeTap}

func (d *Device) readCard(ctx context.Context, f wire.Frame) wire.Frame {
	k, cfg, ok := d.withKeys()
	if !ok {
		return failure(f.Command, wire.StatusKeysNotLoaded, "working keys not loaded")
	}
	defer k.erase()
	var amount uint64
	if a, ok := f.Get(wire.TagAmount); ok && len(a) == 8 {
		amount = binary.BigEndian.Uint64(a)
	}
	if !cardholder(ctx, cfg) || cfg.CancelKey {
		return failure(f.Command, wire.StatusCancelled, "cancelled")
	}
	mode := modeBits[cfg.EntryMode]
	if allowed, ok := f.Get(wire.TagEntryModes); ok && len(allowed) == 1 && allowed[0] != 0 && allowed[0]&mode == 0 {
		return failure(f.Command, wire.StatusCardRead, "card presented by "+cfg.EntryMode+", not allowed")
	}
	track, err := cardcrypto.EncryptTrack(k.track, cfg.Card.Track())
	if err != nil {
		return failure(f.Command, wire.StatusCardRead, "track encryption failed")
	}
	fields := []wire.Field{
		{Tag: wire.TagMaskedPAN, Value: []byte(cardcrypto.MaskPAN(cfg.Card.PAN))},
		{Tag: wire.TagExpiry, Value: []byte(cfg.Card.Expiry)},
		{Tag: wire.TagEntryMode, Value: []byte{mode}},
		{Tag: wire.TagEncryptedTrack, Value: track},
	}
	if cfg.EntryMode != pinpad.EntrySwipe {
		d.mu.Lock()
		d.atc++
		atc := d.atc
		d.mu.Unlock()
		fields = append(fields,
			wire.Field{Tag: wire.TagCardSequence, Value: []byte(testcards.ChipSequenceNumber)},
			wire.Field{Tag: wire.TagICCData, Value: testcards.ICCData(cfg.Card, amount, atc)})
	}
	return respond(f.Command, wire.StatusOK, fields...)
}

func (d *Device) getPIN(ctx context.Context, f wire.Frame) wire.Frame {
	k, cfg, ok := d.withKeys()
	if !ok {
		return failure(f.Command, wire.StatusKeysNotLoaded, "working keys not loaded")
	}
	defer k.erase()
	enc, _ := f.Get(wire.TagEncryptedTrack)
	track, err := cardcrypto.DecryptTrack(k.track, enc)
	if err != nil {
		return failure(f.Command, wire.StatusCardRead, "encrypted track malformed")
	}
	pan, _, err := cardcrypto.ParseTrack(track)
	if err != nil {
		return failure(f.Command, wire.StatusCardRead, "encrypted track does not decrypt under the track key")
	}
	if !cardholder(ctx, cfg) || cfg.CancelKey {
		return failure(f.Command, wire.StatusCancelled, "cancelled")
	}
	block, err := cardcrypto.PINBlock(k.pin, cfg.PIN, pan)
	if err != nil {
		return failure(f.Command, wire.StatusPINUnavail, "PIN block failed")
	}
	return respond(f.Command, wire.StatusOK, wire.Field{Tag: wire.TagPINBlock, Value: block})
}

func (d *Device) mac(f wire.Frame) wire.Frame {
	k, _, ok := d.withKeys()
	if !ok {
		return failure(f.Command, wire.StatusKeysNotLoaded, "working keys not loaded")
	}
	defer k.erase()
	data, _ := f.Get(wire.TagMACData)
	mac, err := cardcrypto.MAC(k.mac, data)
	if err != nil {
		return failure(f.Command, wire.StatusBadRequest, "MAC failed")
	}
	if f.Command == wire.CmdCalculateMAC {
		return respond(f.Command, wire.StatusOK, wire.Field{Tag: wire.TagMAC, Value: mac})
	}
	got, _ := f.Get(wire.TagMAC)
	if len(got) != pinpad.MACSize || subtle.ConstantTimeCompare(got, mac) != 1 {
		return failure(f.Command, wire.StatusBadMAC, "MAC does not verify")
	}
	return respond(f.Command, wire.StatusOK)
}
