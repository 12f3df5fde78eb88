package serial

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/hashicorp/go-hclog"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
	"github.com/posrt/posrt/plugins/pinpad/pinpadtest"
	"github.com/posrt/posrt/plugins/pinpad/serial/device"
	"github.com/posrt/posrt/plugins/pinpad/testcards"
)

// line is a PIN pad's serial line made of a pty pair: the driver opens
// link, a symbolic link to the slave, and the PIN pad (the simulator or a
// script in the test) sits on the master. The test holds the slave open
// too, so the master does not fail while the driver reopens the port.
type line struct {
	link string
	m    *os.File
}

func newLine(t *testing.T) *line {
	t.Helper()
	m, s := openPTY(t)
	l := &line{link: filepath.Join(t.TempDir(), "pinpad"), m: m}
	if err := os.Symlink(s.Name(), l.link); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(); _ = s.Close() })
	return l
}

// openPTY opens a pty pair whose master is in non-blocking mode, so that
// closing it ends a read in progress, as unplugging a device does.
func openPTY(t *testing.T) (m, s *os.File) {
	t.Helper()
	m, s, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	fd, err := syscall.Dup(int(m.Fd()))
	if err == nil {
		err = syscall.SetNonblock(fd, true)
	}
	_ = m.Close()
	if err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(fd), "ptmx"), s
}

// simulate serves a simulated PIN pad on l until the test ends.
func simulate(t *testing.T, l *line, cfg device.Config) *device.Device {
	t.Helper()
	dev := device.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = dev.Serve(ctx, l.m)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return dev
}

func newDriver(t *testing.T, l *line, extra map[string]string) *Driver {
	t.Helper()
	d := NewWithLogger(hclog.NewNullLogger())
	t.Cleanup(d.Close)
	if err := d.Configure(context.Background(), pinpad.APIVersion1, driverConfig(l, extra)); err != nil {
		t.Fatal(err)
	}
	return d
}

func driverConfig(l *line, extra map[string]string) map[string]string {
	cfg := map[string]string{"device": l.link, "ack_timeout": "200ms", "response_timeout": "2s"}
	for k, v := range extra {
		cfg[k] = v
	}
	return cfg
}

func TestConformance(t *testing.T) {
	l := newLine(t)
	simulate(t, l, device.Config{})
	pinpadtest.RunConformance(t, pinpadtest.Harness{
		New: func(t *testing.T) pinpad.PinPad {
			d := newDriver(t, l, nil)
			// Key injection: the simulator leaves the factory without a
			// master key.
			if err := d.InjectMasterKey(context.Background(), masterKey(testcards.TestTMK())); err != nil {
				t.Fatal(err)
			}
			return d
		},
		Config: driverConfig(l, nil),
	})
}

// script is the PIN pad side of a test written byte by byte: it reads what
// the driver sends from the pty master.
type script struct {
	t  *testing.T
	m  *os.File
	in chan byte
}

func newScript(t *testing.T, l *line) *script {
	s := &script{t: t, m: l.m, in: make(chan byte, 4096)}
	go func() {
		buf := make([]byte, 256)
		for {
			n, err := l.m.Read(buf)
			for _, b := range buf[:n] {
				s.in <- b
			}
			if err != nil {
				close(s.in)
				return
			}
		}
	}()
	return s
}

// expect reads len(want) bytes and fails the test unless they are want.
func (s *script) expect(what string, want []byte) {
	s.t.Helper()
	got := make([]byte, 0, len(want))
	timeout := time.After(3 * time.Second)
	for len(got) < len(want) {
		select {
		case b, ok := <-s.in:
			if !ok {
				s.t.Fatalf("%s: line closed after % X", what, got)
			}
			got = append(got, b)
		case <-timeout:
			s.t.Fatalf("%s: got % X before the timeout, want % X", what, got, want)
		}
	}
	if !bytes.Equal(got, want) {
		s.t.Fatalf("%s: got % X, want % X", what, got, want)
	}
}

// quiet fails the test if the driver sends anything within d.
func (s *script) quiet(d time.Duration) {
	s.t.Helper()
	select {
	case b := <-s.in:
		s.t.Fatalf("driver sent %#02x, want nothing", b)
	case <-time.After(d):
	}
}

func (s *script) send(b []byte) {
	s.t.Helper()
	if _, err := s.m.Write(b); err != nil {
		s.t.Fatal(err)
	}
}

// Frames written by hand from the README, not by the encoder.
var (
	// Display "HI": STX, length 6, command 0x10, field 0x02 of 2 bytes
	// "HI", ETX, LRC 00^06^10^02^00^02^48^49^03 = 0x14.
	displayHI = []byte{0x02, 0x00, 0x06, 0x10, 0x02, 0x00, 0x02, 0x48, 0x49, 0x03, 0x14}
	// Its response: command 0x90, status field 0x01 of 1 byte 0x00 (OK);
	// LRC 00^05^90^01^00^01^00^03 = 0x96.
	displayOK = []byte{0x02, 0x00, 0x05, 0x90, 0x01, 0x00, 0x01, 0x00, 0x03, 0x96}
	// Erase keys: command 0x32 without data; LRC 00^01^32^03 = 0x30.
	eraseKeys = []byte{0x02, 0x00, 0x01, 0x32, 0x03, 0x30}
	// Its response, OK: LRC 00^05^B2^01^00^01^00^03 = 0xB4.
	eraseOK = []byte{0x02, 0x00, 0x05, 0xB2, 0x01, 0x00, 0x01, 0x00, 0x03, 0xB4}
	ack     = []byte{0x06}
	nak     = []byte{0x15}
)

// run runs f in a goroutine and returns its error on the channel.
func run(f func() error) <-chan error {
	c := make(chan error, 1)
	go func() { c <- f() }()
	return c
}

func result(t *testing.T, c <-chan error) error {
	t.Helper()
	select {
	case err := <-c:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("the call did not return")
		return nil
	}
}

func TestFramesByteExact(t *testing.T) {
	l := newLine(t)
	s := newScript(t, l)
	d := newDriver(t, l, nil)
	ctx := context.Background()

	done := run(func() error { return d.Display(ctx, []string{"HI"}) })
	s.expect("display command", displayHI)
	s.send(ack)
	s.send(displayOK)
	s.expect("driver's ACK of the response", ack)
	if err := result(t, done); err != nil {
		t.Fatalf("Display: %v", err)
	}

	done = run(func() error { return d.EraseKeys(ctx) })
	s.expect("erase keys command", eraseKeys)
	s.send(ack)
	s.send(eraseOK)
	s.expect("driver's ACK of the response", ack)
	if err := result(t, done); err != nil {
		t.Fatalf("EraseKeys: %v", err)
	}
}

func TestNAKedCommandIsSentAgain(t *testing.T) {
	l := newLine(t)
	s := newScript(t, l)
	d := newDriver(t, l, nil)
	done := run(func() error { return d.EraseKeys(context.Background()) })
	s.expect("erase keys", eraseKeys)
	s.send(nak)
	s.expect("erase keys again after the NAK", eraseKeys)
	s.send(ack)
	s.send(eraseOK)
	s.expect("ACK", ack)
	if err := result(t, done); err != nil {
		t.Fatalf("EraseKeys after one NAK: %v", err)
	}
}

func TestGarbledResponseIsNAKedAndTakenAgain(t *testing.T) {
	l := newLine(t)
	s := newScript(t, l)
	d := newDriver(t, l, nil)
	done := run(func() error { return d.EraseKeys(context.Background()) })
	s.expect("erase keys", eraseKeys)
	s.send(ack)
	garbled := bytes.Clone(eraseOK)
	garbled[len(garbled)-1] ^= 0xFF // bad LRC
	s.send(garbled)
	s.expect("NAK of the garbled response", nak)
	s.send(eraseOK)
	s.expect("ACK", ack)
	if err := result(t, done); err != nil {
		t.Fatalf("EraseKeys after a garbled response: %v", err)
	}
}

func TestSilentPINPadIsNotConnected(t *testing.T) {
	l := newLine(t)
	s := newScript(t, l)
	d := newDriver(t, l, map[string]string{"ack_timeout": "100ms"})
	done := run(func() error { return d.EraseKeys(context.Background()) })
	for try := 1; try <= 3; try++ {
		s.expect("erase keys, try "+string(rune('0'+try)), eraseKeys)
	}
	err := result(t, done)
	if !errors.Is(err, pinpad.ErrNotConnected) {
		t.Fatalf("EraseKeys on a silent line: err = %v, want pinpad.ErrNotConnected", err)
	}
	s.quiet(300 * time.Millisecond) // no fourth try
}

func TestUnansweredCommandIsNotConnected(t *testing.T) {
	l := newLine(t)
	s := newScript(t, l)
	d := newDriver(t, l, map[string]string{"response_timeout": "300ms"})
	done := run(func() error { return d.EraseKeys(context.Background()) })
	s.expect("erase keys", eraseKeys)
	s.send(ack) // and then never the response
	if err := result(t, done); !errors.Is(err, pinpad.ErrNotConnected) {
		t.Fatalf("EraseKeys never answered: err = %v, want pinpad.ErrNotConnected", err)
	}
}

// signIn injects the test master key and loads fresh working keys; it
// returns the clear track and PIN keys.
func signIn(t *testing.T, d *Driver) (trackKey, pinKey []byte) {
	t.Helper()
	ctx := context.Background()
	if err := d.InjectMasterKey(ctx, masterKey(testcards.TestTMK())); err != nil {
		t.Fatal(err)
	}
	wrap := func(k []byte) pinpad.WorkingKey {
		enc, kcv, err := cardcrypto.Wrap(testcards.TestTMK(), k)
		if err != nil {
			t.Fatal(err)
		}
		return pinpad.WorkingKey{Encrypted: enc, CheckValue: kcv}
	}
	pinKey, trackKey = cardcrypto.NewKey(), cardcrypto.NewKey()
	if err := d.LoadWorkingKeys(ctx, pinpad.WorkingKeys{PIN: wrap(pinKey), MAC: wrap(cardcrypto.NewKey()), Track: wrap(trackKey)}); err != nil {
		t.Fatal(err)
	}
	return trackKey, pinKey
}

func TestChipCardHasSequenceNumberAndICCData(t *testing.T) {
	l := newLine(t)
	simulate(t, l, device.Config{EntryMode: pinpad.EntryInsert})
	d := newDriver(t, l, nil)
	trackKey, _ := signIn(t, d)
	c, err := d.ReadCard(context.Background(), pinpad.ReadCardRequest{Amount: 12345})
	if err != nil {
		t.Fatal(err)
	}
	if c.SequenceNumber != "001" {
		t.Errorf("SequenceNumber = %q, want 001", c.SequenceNumber)
	}
	// 9F02 06 000000012345: the amount in the ICC data.
	if !bytes.Contains(c.ICCData, []byte{0x9F, 0x02, 0x06, 0x00, 0x00, 0x00, 0x01, 0x23, 0x45}) {
		t.Errorf("ICCData % X lacks the amount 9F02", c.ICCData)
	}
	track, err := cardcrypto.DecryptTrack(trackKey, c.EncryptedTrack)
	if err != nil || track != testcards.Cards[testcards.DefaultCard].Track() {
		t.Errorf("track under the track key = %q, %v", track, err)
	}
}

func TestSwipedCardHasNoICCData(t *testing.T) {
	l := newLine(t)
	simulate(t, l, device.Config{EntryMode: pinpad.EntrySwipe})
	d := newDriver(t, l, nil)
	signIn(t, d)
	c, err := d.ReadCard(context.Background(), pinpad.ReadCardRequest{Amount: 100})
	if err != nil {
		t.Fatal(err)
	}
	if c.EntryMode != pinpad.EntrySwipe || c.SequenceNumber != "" || c.ICCData != nil {
		t.Errorf("swiped card = %+v, want swipe without sequence number or ICC data", c)
	}
	if _, err := d.ReadCard(context.Background(), pinpad.ReadCardRequest{EntryModes: []string{pinpad.EntryTap}}); !errors.Is(err, pinpad.ErrCardRead) {
		t.Errorf("swipe when only tap is allowed: err = %v, want pinpad.ErrCardRead", err)
	}
}

func TestCancelKey(t *testing.T) {
	l := newLine(t)
	simulate(t, l, device.Config{CancelKey: true})
	d := newDriver(t, l, nil)
	signIn(t, d)
	if _, err := d.ReadCard(context.Background(), pinpad.ReadCardRequest{Amount: 100}); !errors.Is(err, pinpad.ErrCancelled) {
		t.Errorf("cardholder pressed cancel: err = %v, want pinpad.ErrCancelled", err)
	}
}

func TestContextEndSendsCancel(t *testing.T) {
	l := newLine(t)
	simulate(t, l, device.Config{Delay: time.Hour})
	d := newDriver(t, l, nil)
	signIn(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := d.ReadCard(ctx, pinpad.ReadCardRequest{Amount: 100}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadCard past its deadline: err = %v", err)
	}
	// The PIN pad stopped waiting: the next command is answered, and the
	// cancelled read's late response is skipped.
	if err := d.Display(context.Background(), []string{"THANK YOU"}); err != nil {
		t.Fatalf("Display after a cancelled read: %v", err)
	}
}

func TestWrongMasterKeyCheckValueRefused(t *testing.T) {
	l := newLine(t)
	dev := simulate(t, l, device.Config{MasterKey: testcards.TestTMK()})
	d := newDriver(t, l, nil)
	signIn(t, d)
	// A frame as the driver sends it, with a wrong check value.
	kcv, _ := cardcrypto.CheckValue(cardcrypto.NewKey())
	_, err := d.call(context.Background(), frameLoadMaster(cardcrypto.NewKey(), kcv), false)
	if !errors.Is(err, pinpad.ErrKeyCheck) {
		t.Fatalf("master key with a wrong check value: err = %v, want pinpad.ErrKeyCheck", err)
	}
	if !dev.HasWorkingKeys() {
		t.Error("a refused master key erased the working keys")
	}
}

func TestContextEndSendsTheCancelCommand(t *testing.T) {
	l := newLine(t)
	s := newScript(t, l)
	d := newDriver(t, l, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := run(func() error {
		_, err := d.ReadCard(ctx, pinpad.ReadCardRequest{Amount: 1, EntryModes: []string{pinpad.EntryTap}})
		return err
	})
	// Read card: amount field 0x04 of 8 bytes (1 fen), entry modes field
	// 0x05 of 1 byte (tap, bit 2); LEN 1+11+4 = 16.
	s.expect("read card", []byte{0x02, 0x00, 0x10, 0x20,
		0x04, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x01,
		0x05, 0x00, 0x01, 0x04,
		0x03, 0x00 ^ 0x10 ^ 0x20 ^ 0x04 ^ 0x08 ^ 0x01 ^ 0x05 ^ 0x01 ^ 0x04 ^ 0x03})
	s.send(ack) // and the cardholder never comes
	// Cancel: command 0x12 without data; LRC 00^01^12^03 = 0x10.
	s.expect("cancel", []byte{0x02, 0x00, 0x01, 0x12, 0x03, 0x10})
	s.send(ack)
	if err := result(t, done); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadCard past its deadline: err = %v, want context.DeadlineExceeded", err)
	}
}

func TestUnpluggedAndPluggedBack(t *testing.T) {
	l := newLine(t)
	stop := make(chan struct{})
	dev := device.New(device.Config{})
	served := make(chan struct{})
	go func() { defer close(served); _ = dev.Serve(context.Background(), l.m); <-stop }()
	d := newDriver(t, l, nil)
	ctx := context.Background()
	if err := d.Display(ctx, []string{"ONE"}); err != nil {
		t.Fatal(err)
	}
	// Unplugged: the master and the slave go, and the link with them.
	_ = l.m.Close()
	close(stop)
	<-served
	if err := d.Display(ctx, []string{"TWO"}); !errors.Is(err, pinpad.ErrNotConnected) {
		t.Fatalf("Display unplugged: err = %v, want pinpad.ErrNotConnected", err)
	}
	if h, _ := d.Health(ctx); h.State != "offline" {
		t.Errorf("Health unplugged = %+v, want offline", h)
	}
	// Plugged back on a fresh pty behind the same link name.
	m, s := openPTY(t)
	t.Cleanup(func() { _ = m.Close(); _ = s.Close() })
	_ = os.Remove(l.link)
	if err := os.Symlink(s.Name(), l.link); err != nil {
		t.Fatal(err)
	}
	simulate(t, &line{link: l.link, m: m}, device.Config{})
	if err := d.Display(ctx, []string{"THREE"}); err != nil {
		t.Fatalf("Display plugged back: %v", err)
	}
}

func TestHealthAnswersWhileTheCardholderIsAwaited(t *testing.T) {
	l := newLine(t)
	simulate(t, l, device.Config{Delay: time.Hour})
	d := newDriver(t, l, nil)
	signIn(t, d)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // before d.Close, should Health hang
	done := run(func() error { _, err := d.ReadCard(ctx, pinpad.ReadCardRequest{Amount: 100}); return err })
	time.Sleep(50 * time.Millisecond) // the read is waiting for the cardholder
	health := run(func() error { _, err := d.Health(context.Background()); return err })
	if err := result(t, health); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := result(t, done); !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadCard cancelled: err = %v", err)
	}
}

// The driver watches its port: an unplugged PIN pad is offline and one
// plugged back is idle, each told to its watchers as it happens, with no
// call made meanwhile.
func TestUnplugAndReplugAreEvents(t *testing.T) {
	l := newLine(t)
	stop := make(chan struct{})
	dev := device.New(device.Config{})
	served := make(chan struct{})
	go func() { defer close(served); _ = dev.Serve(context.Background(), l.m); <-stop }()
	d := newDriver(t, l, map[string]string{"reconnect": "20ms"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan base.Event, 64)
	go func() { _ = d.Watch(ctx, func(e base.Event) error { events <- e; return nil }) }()
	until := func(state string) base.Event {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case e := <-events:
				if e.Type == base.EventStatus && e.Health.State == state {
					return e
				}
			case <-deadline:
				t.Fatalf("no %s event within 5s", state)
			}
		}
	}
	until(base.StateIdle)
	_ = os.Remove(l.link) // unplugged: the node goes, and the line hangs up
	_ = l.m.Close()
	close(stop)
	<-served
	if e := until(base.StateOffline); !strings.Contains(e.Health.Detail, pinpad.ErrNotConnected.Error()) {
		t.Errorf("offline event %+v, want it to say the PIN pad is not connected", e)
	}
	m, s := openPTY(t)
	t.Cleanup(func() { _ = m.Close(); _ = s.Close() })
	simulate(t, &line{link: l.link, m: m}, device.Config{})
	if err := os.Symlink(s.Name(), l.link); err != nil {
		t.Fatal(err)
	}
	until(base.StateIdle)
	if err := d.Display(ctx, []string{"BACK"}); err != nil {
		t.Fatalf("Display plugged back: %v", err)
	}
}

// masterKey is key with its check value, as a custodian hands it over.
func masterKey(key []byte) pinpad.MasterKey {
	kcv, _ := cardcrypto.CheckValue(key)
	return pinpad.MasterKey{Key: key, CheckValue: kcv[:3]}
}
