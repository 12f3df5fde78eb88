package serial

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	bugserial "go.bug.st/serial"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
	"github.com/posrt/posrt/plugins/pinpad/serial/wire"
)

// Driver defaults.
const (
	DefaultDevice          = "/dev/ttyUSB0"
	DefaultBaud            = 9600
	DefaultAckTimeout      = 500 * time.Millisecond
	DefaultResponseTimeout = 5 * time.Second
	DefaultReconnect       = time.Second
)

// Driver is the serial PIN pad driver. New returns it unconfigured: its
// device calls fail with pinpad.ErrNotConnected until Configure. A call
// sends one command frame (up to wire.Tries times, see the README) and
// waits for its response; a command never acknowledged, or a response that
// does not come within the response timeout, fails with
// pinpad.ErrNotConnected and closes the port, which the next call opens
// again. ReadCard and GetPIN wait for the cardholder as long as their
// context allows; when it ends first, the driver sends the cancel command.
// Calls are serialised; Health and Configure do not wait for them. It is
// safe for concurrent use.
type Driver struct {
	log hclog.Logger

	callMu  sync.Mutex // one command on the line at a time
	mu      sync.Mutex // guards the fields below
	cfg     *config    // nil until Configure
	link    *wire.Link
	lastErr error
	stop    chan struct{} // closed to end the reconnect loop of this configuration
	mon     base.Monitor
}

var _ pinpad.PinPad = (*Driver)(nil)

type config struct {
	device          string
	baud            int
	ackTimeout      time.Duration
	responseTimeout time.Duration
	reconnect       time.Duration
}

// New returns an unconfigured driver logging with base.Logger. It does no
// I/O.
func New() *Driver { return NewWithLogger(base.Logger()) }

// NewWithLogger returns an unconfigured driver logging damaged frames and
// connection changes to log.
func NewWithLogger(log hclog.Logger) *Driver { return &Driver{log: log} }

func driverInfo() base.Info {
	return base.Info{
		Kind: base.KindPinPad, Name: "pinpad-serial", Version: "0.1.0", APIVersions: pinpad.APIVersions,
		Capabilities: []string{pinpad.CapabilityMAC, pinpad.CapabilityEraseKeys, pinpad.CapabilityInjectMasterKey},
	}
}

// Info implements base.Base.
func (d *Driver) Info(context.Context) (base.Info, error) { return driverInfo(), nil }

// Configure implements base.Base. It checks every key (see the README)
// before it changes anything; a configuration accepted closes the port
// open and opens the one configured. A port that does not open is no
// error: Health says offline and each call tries again.
func (d *Driver) Configure(_ context.Context, apiVersion string, m map[string]string) error {
	if err := base.CheckAPIVersion(driverInfo(), apiVersion); err != nil {
		return err
	}
	cfg, err := parseConfig(m)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closeLocked()
	d.cfg = &cfg
	if err := d.openLocked(); err != nil {
		d.log.Warn("PIN pad port not open", "device", cfg.device, "error", err)
	}
	d.stop = make(chan struct{})
	go d.keepOpen(d.stop, cfg.reconnect)
	return nil
}

// keepOpen watches the port of one configuration until stop: a port that
// vanishes is offline at once, and one that is not open is opened again
// every interval, so a PIN pad unplugged and plugged back is picked up
// without a call and without a restart of posrt.
func (d *Driver) keepOpen(stop chan struct{}, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		d.mu.Lock()
		var gone <-chan struct{}
		if d.link != nil {
			gone = d.link.Done()
		}
		d.mu.Unlock()
		select {
		case <-stop:
			return
		case <-gone: // nil while closed: never
		case <-t.C:
		}
		d.mu.Lock()
		if d.link != nil {
			select {
			case <-d.link.Done():
				d.lastErr = fmt.Errorf("%s closed", d.cfg.device)
			default:
			}
		}
		_ = d.openLocked()
		d.mu.Unlock()
	}
}

// Close closes the port and ends its watch.
func (d *Driver) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closeLocked()
}

func (d *Driver) closeLocked() {
	if d.stop != nil {
		close(d.stop)
		d.stop = nil
	}
	if d.link != nil {
		_ = d.link.Close()
		<-d.link.Done()
		d.link = nil
	}
}

// openLocked opens the port when it is not open.
func (d *Driver) openLocked() error {
	if d.cfg == nil {
		return fmt.Errorf("%w: not configured", pinpad.ErrNotConnected)
	}
	if d.link != nil {
		select {
		case <-d.link.Done():
			d.link = nil // the port failed or vanished
		default:
			return nil
		}
	}
	defer d.changedLocked()
	p, err := bugserial.Open(d.cfg.device, &bugserial.Mode{BaudRate: d.cfg.baud, DataBits: 8, Parity: bugserial.NoParity, StopBits: bugserial.OneStopBit})
	if err != nil {
		d.lastErr = err
		return fmt.Errorf("%w: opening %s: %w", pinpad.ErrNotConnected, d.cfg.device, err)
	}
	log := d.log
	d.link = wire.NewLink(p, d.cfg.ackTimeout, func(err error) { log.Warn("damaged frame from the PIN pad", "error", err) })
	if d.lastErr != nil {
		d.log.Info("PIN pad connected", "device", d.cfg.device)
	}
	d.lastErr = nil
	return nil
}

// changedLocked tells the driver's watchers its health: idle while the
// port is open, offline with the last failure otherwise; d.mu is held.
func (d *Driver) changedLocked() {
	switch {
	case d.link != nil && d.lastErr == nil:
		d.mon.Set(base.Health{State: base.StateIdle})
	case d.lastErr != nil:
		d.mon.Set(base.Health{State: base.StateOffline, Detail: fmt.Sprintf("%v: %v", pinpad.ErrNotConnected, d.lastErr)})
	default:
		d.mon.Set(base.Health{State: base.StateOffline, Detail: pinpad.ErrNotConnected.Error()})
	}
}

// Health implements base.Base: idle while the port is open, offline with
// the last failure otherwise. It answers from what the driver last saw of
// the port, which it watches (keepOpen), and does no I/O.
func (d *Driver) Health(ctx context.Context) (base.Health, error) { return d.mon.Health(ctx) }

// Watch implements base.Watcher: the PIN pad going offline and coming
// back, and the commands it did not answer, as they happen.
func (d *Driver) Watch(ctx context.Context, send func(base.Event) error) error {
	return d.mon.Watch(ctx, send)
}

// call sends cmd and returns its response. cardholder says the command
// waits for the cardholder: it has no response timeout but the context's,
// and the cancel command follows when the context ends. Calls wait for one
// another (callMu); Health and Configure do not wait for a call.
func (d *Driver) call(ctx context.Context, cmd wire.Frame, cardholder bool) (wire.Frame, error) {
	if err := ctx.Err(); err != nil {
		return wire.Frame{}, err
	}
	d.callMu.Lock()
	defer d.callMu.Unlock()
	d.mu.Lock()
	if err := d.openLocked(); err != nil {
		d.mu.Unlock()
		return wire.Frame{}, err
	}
	link, cfg := d.link, *d.cfg
	d.mu.Unlock()
	if err := link.Send(ctx, cmd); err != nil {
		if ctx.Err() != nil {
			return wire.Frame{}, err
		}
		return wire.Frame{}, d.lost(link, cfg, fmt.Errorf("sending command %#02x: %w", byte(cmd.Command), err))
	}
	wait, cancel := ctx, context.CancelFunc(func() {})
	if !cardholder {
		wait, cancel = context.WithTimeout(ctx, cfg.responseTimeout)
	}
	defer cancel()
	for {
		resp, err := link.Receive(wait)
		if err != nil {
			if ctx.Err() != nil {
				if cardholder {
					d.sendCancel(link, cfg)
				}
				return wire.Frame{}, ctx.Err()
			}
			return wire.Frame{}, d.lost(link, cfg, fmt.Errorf("waiting for the response to command %#02x: %w", byte(cmd.Command), err))
		}
		if resp.Command != cmd.Command|wire.Response {
			// The late response to a command given up on.
			continue
		}
		return resp, statusErr(resp)
	}
}

// sendCancel sends the cancel command, so the PIN pad stops waiting for
// the cardholder; its response is left for the next call to skip.
func (d *Driver) sendCancel(link *wire.Link, cfg config) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(wire.Tries+1)*cfg.ackTimeout)
	defer cancel()
	if err := link.Send(ctx, wire.Frame{Command: wire.CmdCancel}); err != nil {
		d.log.Warn("PIN pad did not take the cancel command", "error", err)
	}
}

// lost closes link, when it is still the port open, after err, and
// returns err as pinpad.ErrNotConnected.
func (d *Driver) lost(link *wire.Link, cfg config, err error) error {
	d.log.Warn("PIN pad not answering", "device", cfg.device, "error", err)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.link == link {
		_ = d.link.Close()
		<-d.link.Done()
		d.link = nil
		d.lastErr = err
		d.changedLocked()
	}
	d.mon.Report(pinpad.ErrNotConnected.Error(), err.Error())
	return fmt.Errorf("%w: %w", pinpad.ErrNotConnected, err)
}

// statusErr is the error a response's status stands for.
func statusErr(resp wire.Frame) error {
	st, ok := resp.Get(wire.TagStatus)
	if !ok || len(st) != 1 {
		return fmt.Errorf("reading the response to command %#02x: no status", byte(resp.Command&^wire.Response))
	}
	text, _ := resp.Get(wire.TagText)
	var sentinel error
	switch wire.Status(st[0]) {
	case wire.StatusOK:
		return nil
	case wire.StatusKeysNotLoaded:
		sentinel = pinpad.ErrKeysNotLoaded
	case wire.StatusKeyCheck:
		sentinel = pinpad.ErrKeyCheck
	case wire.StatusCancelled:
		sentinel = pinpad.ErrCancelled
	case wire.StatusTimeout:
		sentinel = pinpad.ErrTimeout
	case wire.StatusCardRead:
		sentinel = pinpad.ErrCardRead
	case wire.StatusBadMAC:
		sentinel = pinpad.ErrBadMAC
	case wire.StatusPINUnavail:
		sentinel = pinpad.ErrPINUnavailable
	case wire.StatusNoMasterKey:
		return fmt.Errorf("PIN pad has no master key: inject one first (%s)", text)
	default:
		return fmt.Errorf("PIN pad refused command %#02x: status %#02x (%s)", byte(resp.Command&^wire.Response), st[0], text)
	}
	if len(text) > 0 {
		return fmt.Errorf("%w (PIN pad: %s)", sentinel, text)
	}
	return sentinel
}

func amountField(amount int64) wire.Field {
	return wire.Field{Tag: wire.TagAmount, Value: binary.BigEndian.AppendUint64(nil, uint64(amount))}
}

var modeBits = map[string]byte{pinpad.EntrySwipe: wire.ModeSwipe, pinpad.EntryInsert: wire.ModeInsert, pinpad.EntryTap: wire.ModeTap}

// ReadCard implements pinpad.PinPad: the masked PAN, expiry, entry mode and
// encrypted track, and of a chip card its sequence number and ICC data.
func (d *Driver) ReadCard(ctx context.Context, req pinpad.ReadCardRequest) (pinpad.Card, error) {
	if req.Amount < 0 {
		return pinpad.Card{}, fmt.Errorf("reading a card: negative amount %d", req.Amount)
	}
	var modes byte
	for _, m := range req.EntryModes {
		b, ok := modeBits[m]
		if !ok {
			return pinpad.Card{}, fmt.Errorf("reading a card: unknown entry mode %q", m)
		}
		modes |= b
	}
	cmd := wire.Frame{Command: wire.CmdReadCard, Fields: []wire.Field{amountField(req.Amount), {Tag: wire.TagEntryModes, Value: []byte{modes}}}}
	resp, err := d.call(ctx, cmd, true)
	if err != nil {
		return pinpad.Card{}, err
	}
	get := func(tag wire.Tag) []byte { v, _ := resp.Get(tag); return v }
	var c pinpad.Card
	c.MaskedPAN, c.Expiry, c.EncryptedTrack = string(get(wire.TagMaskedPAN)), string(get(wire.TagExpiry)), get(wire.TagEncryptedTrack)
	if m := get(wire.TagEntryMode); len(m) == 1 {
		for name, b := range modeBits {
			if b == m[0] {
				c.EntryMode = name
			}
		}
	}
	if c.EntryMode == "" || len(c.EncryptedTrack) == 0 {
		return pinpad.Card{}, fmt.Errorf("%w: the PIN pad's answer lacks the entry mode or the track", pinpad.ErrCardRead)
	}
	c.SequenceNumber, c.ICCData = string(get(wire.TagCardSequence)), get(wire.TagICCData)
	return c, nil
}

// GetPIN implements pinpad.PinPad: the cardholder enters the PIN on the
// PIN pad's keypad, which answers the PIN block under the PIN key.
func (d *Driver) GetPIN(ctx context.Context, req pinpad.PINRequest) (pinpad.PINBlock, error) {
	cmd := wire.Frame{Command: wire.CmdGetPIN, Fields: []wire.Field{amountField(req.Amount), {Tag: wire.TagEncryptedTrack, Value: req.EncryptedTrack}}}
	resp, err := d.call(ctx, cmd, true)
	if err != nil {
		return nil, err
	}
	block, _ := resp.Get(wire.TagPINBlock)
	if len(block) != 8 {
		return nil, fmt.Errorf("%w: the PIN pad answered a %d-byte PIN block", pinpad.ErrPINUnavailable, len(block))
	}
	return pinpad.PINBlock(block), nil
}

// Display implements pinpad.PinPad.
func (d *Driver) Display(ctx context.Context, lines []string) error {
	cmd := wire.Frame{Command: wire.CmdDisplay}
	for _, l := range lines {
		cmd.Fields = append(cmd.Fields, wire.Field{Tag: wire.TagLine, Value: []byte(l)})
	}
	_, err := d.call(ctx, cmd, false)
	return err
}

// Beep sounds the PIN pad's buzzer for dur (at most 65.535 s).
func (d *Driver) Beep(ctx context.Context, dur time.Duration) error {
	ms := min(dur.Milliseconds(), 0xFFFF)
	cmd := wire.Frame{Command: wire.CmdBeep, Fields: []wire.Field{{Tag: wire.TagBeepMillis, Value: binary.BigEndian.AppendUint16(nil, uint16(max(ms, 0)))}}}
	_, err := d.call(ctx, cmd, false)
	return err
}

// InjectMasterKey implements pinpad.PinPad: the clear key and its check
// value go to the device (command 0x30), which refuses a check value that
// does not match (pinpad.ErrKeyCheck) and erases its working keys.
func (d *Driver) InjectMasterKey(ctx context.Context, key pinpad.MasterKey) error {
	if len(key.Key) != cardcrypto.KeySize {
		return fmt.Errorf("injecting the master key: %w: the key is %d bytes, not %d", pinpad.ErrKeyCheck, len(key.Key), cardcrypto.KeySize)
	}
	cmd := wire.Frame{Command: wire.CmdLoadMasterKey, Fields: []wire.Field{{Tag: wire.TagKey, Value: key.Key}, {Tag: wire.TagCheckValue, Value: key.CheckValue}}}
	if _, err := d.call(ctx, cmd, false); err != nil {
		return fmt.Errorf("injecting the master key: %w", err)
	}
	return nil
}

// LoadWorkingKeys implements pinpad.PinPad: the PIN pad unwraps the keys
// under its master key and keeps them only when all three match their
// check values.
func (d *Driver) LoadWorkingKeys(ctx context.Context, keys pinpad.WorkingKeys) error {
	cmd := wire.Frame{Command: wire.CmdLoadWorkingKeys, Fields: []wire.Field{
		{Tag: wire.TagPINKey, Value: keys.PIN.Encrypted}, {Tag: wire.TagPINKeyCheck, Value: keys.PIN.CheckValue},
		{Tag: wire.TagMACKey, Value: keys.MAC.Encrypted}, {Tag: wire.TagMACKeyCheck, Value: keys.MAC.CheckValue},
		{Tag: wire.TagTrackKey, Value: keys.Track.Encrypted}, {Tag: wire.TagTrackKeyCheck, Value: keys.Track.CheckValue},
	}}
	if _, err := d.call(ctx, cmd, false); err != nil {
		return fmt.Errorf("loading working keys: %w", err)
	}
	return nil
}

// CalculateMAC implements pinpad.PinPad.
func (d *Driver) CalculateMAC(ctx context.Context, req pinpad.MACRequest) ([]byte, error) {
	resp, err := d.call(ctx, wire.Frame{Command: wire.CmdCalculateMAC, Fields: []wire.Field{{Tag: wire.TagMACData, Value: req.Data}}}, false)
	if err != nil {
		return nil, err
	}
	mac, _ := resp.Get(wire.TagMAC)
	if len(mac) != pinpad.MACSize {
		return nil, fmt.Errorf("calculating the MAC: the PIN pad answered %d bytes", len(mac))
	}
	return mac, nil
}

// VerifyMAC implements pinpad.PinPad; the PIN pad compares.
func (d *Driver) VerifyMAC(ctx context.Context, req pinpad.MACRequest) error {
	_, err := d.call(ctx, wire.Frame{Command: wire.CmdVerifyMAC, Fields: []wire.Field{{Tag: wire.TagMACData, Value: req.Data}, {Tag: wire.TagMAC, Value: req.MAC}}}, false)
	return err
}

// EraseKeys implements pinpad.PinPad.
func (d *Driver) EraseKeys(ctx context.Context) error {
	_, err := d.call(ctx, wire.Frame{Command: wire.CmdEraseKeys}, false)
	return err
}

func parseConfig(m map[string]string) (config, error) {
	c := config{device: DefaultDevice, baud: DefaultBaud, ackTimeout: DefaultAckTimeout, responseTimeout: DefaultResponseTimeout, reconnect: DefaultReconnect}
	keys := []string{"device", "baud", "ack_timeout", "response_timeout", "reconnect"}
	err := base.EachConfigKey(m, "pinpad-serial", keys, func(k base.ConfigKey) error {
		if k.Value == "" {
			return nil // the default
		}
		switch k.Name {
		case "device":
			c.device = k.Value
		case "baud":
			n, err := strconv.Atoi(k.Value)
			if err != nil || n <= 0 {
				return k.Bad("a line speed such as 9600")
			}
			c.baud = n
		case "ack_timeout", "response_timeout", "reconnect":
			dur, err := time.ParseDuration(k.Value)
			if err != nil || dur <= 0 {
				return k.Bad("a positive duration such as 500ms")
			}
			switch k.Name {
			case "ack_timeout":
				c.ackTimeout = dur
			case "response_timeout":
				c.responseTimeout = dur
			default:
				c.reconnect = dur
			}
		}
		return nil
	})
	if err != nil {
		return config{}, err
	}
	return c, nil
}
