package serial

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/hashicorp/go-hclog"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/scanner"
	"github.com/posrt/posrt/plugins/scanner/scannertest"
)

// line is a scanner plugged into a pty pair: the driver opens link, a
// symbolic link to the pty's slave (as udev's /dev/serial/by-id links
// are), and the test writes what the scanner sends to the master.
type line struct {
	t    *testing.T
	link string
	mu   sync.Mutex
	m    *os.File // nil while unplugged
}

func plugIn(t *testing.T) *line {
	t.Helper()
	l := &line{t: t, link: filepath.Join(t.TempDir(), "scanner")}
	l.plug()
	t.Cleanup(l.unplug)
	return l
}

// plug opens a fresh pty pair and points the link at its slave.
func (l *line) plug() {
	l.t.Helper()
	m, s, err := pty.Open()
	if err != nil {
		l.t.Skipf("no pseudo-terminals: %v", err)
	}
	name := s.Name()
	_ = s.Close() // the driver opens its own
	_ = os.Remove(l.link)
	if err := os.Symlink(name, l.link); err != nil {
		l.t.Fatal(err)
	}
	l.mu.Lock()
	l.m = m
	l.mu.Unlock()
}

// unplug closes the master: the slave vanishes, as a USB-CDC scanner's
// port does when it is pulled out.
func (l *line) unplug() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m != nil {
		_ = l.m.Close()
		l.m = nil
	}
	_ = os.Remove(l.link)
}

// send writes what the scanner sends.
func (l *line) send(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		return
	}
	if _, err := l.m.Write([]byte(s)); err != nil {
		l.t.Errorf("writing to the pty: %v", err)
	}
}

// logBuffer is a log the tests read.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (lb *logBuffer) Write(p []byte) (int, error) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return lb.b.Write(p)
}

func (lb *logBuffer) String() string {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return lb.b.String()
}

// open returns a driver configured for l with extra keys, and its log.
func open(t *testing.T, l *line, extra map[string]string) (*Driver, *logBuffer) {
	t.Helper()
	lb := new(logBuffer)
	d := NewWithLogger(hclog.New(&hclog.LoggerOptions{Output: lb, Level: hclog.Info}))
	t.Cleanup(d.Close)
	cfg := map[string]string{"device": l.link, "reconnect": "20ms"}
	for k, v := range extra {
		cfg[k] = v
	}
	if err := d.Configure(context.Background(), scanner.APIVersion1, cfg); err != nil {
		t.Fatal(err)
	}
	waitState(t, d, base.StateIdle)
	return d, lb
}

// waitState waits until d's Health says state.
func waitState(t *testing.T, d *Driver, state string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h, _ := d.Health(context.Background())
		if h.State == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Health %+v after 5s, want %s", h, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func readCode(t *testing.T, d *Driver, within time.Duration) (scanner.Scan, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	return d.ReadCode(ctx)
}

func TestConformance(t *testing.T) {
	l := plugIn(t)
	scannertest.RunConformance(t, scannertest.Harness{
		New: func(t *testing.T) scanner.Scanner {
			d := New()
			t.Cleanup(d.Close)
			return d
		},
		Config:  map[string]string{"device": l.link, "reconnect": "20ms", "terminator": "crlf", "symbology": "qr"},
		Trigger: func(_ scanner.Scanner, code string) { l.send(code + "\r\n") },
	})
}

func TestGarbledAndOverlongLinesAreDropped(t *testing.T) {
	l := plugIn(t)
	d, lb := open(t, l, map[string]string{"max_length": "20"})
	if err := d.Enable(context.Background()); err != nil {
		t.Fatal(err)
	}
	l.send("1345\x00\x1b67890123456789\r") // garbled
	l.send(strings.Repeat("6", 21) + "\r") // over-long
	l.send("134567890123456789\r")
	s, err := readCode(t, d, 5*time.Second)
	if err != nil || s.Code != "134567890123456789" || s.Symbology != DefaultSymbology || s.At.IsZero() {
		t.Fatalf("ReadCode = %+v, %v; want the good code only", s, err)
	}
	if s, err := readCode(t, d, 100*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ReadCode = %q, %v; want no code: a bad read was handed out", s.Code, err)
	}
	log := lb.String()
	if strings.Count(log, "bad read dropped") != 2 || !strings.Contains(log, "control character 0x00") || !strings.Contains(log, "longer than 20 bytes") {
		t.Errorf("log %s; want the two bad reads", log)
	}
}

func TestUnpluggedDuringAWait(t *testing.T) {
	l := plugIn(t)
	d, _ := open(t, l, nil)
	got := make(chan scanner.Scan, 1)
	errs := make(chan error, 1)
	go func() {
		s, err := readCode(t, d, 20*time.Second)
		got <- s
		errs <- err
	}()
	for d.dev.Waiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	l.unplug()
	waitState(t, d, base.StateOffline)
	if h, _ := d.Health(context.Background()); !strings.Contains(h.Detail, scanner.ErrNotConnected.Error()) {
		t.Errorf("Health detail %q, want it to say the scanner is not connected", h.Detail)
	}
	time.Sleep(100 * time.Millisecond) // a few failed reopens
	select {
	case err := <-errs:
		t.Fatalf("ReadCode ended while the scanner was unplugged: %v", err)
	default:
	}
	l.plug()
	waitState(t, d, base.StateIdle)
	l.send("281234567890123456\r")
	if s, err := <-got, <-errs; err != nil || s.Code != "281234567890123456" {
		t.Fatalf("ReadCode = %q, %v; want the code read after the scanner came back", s.Code, err)
	}
}

func TestDisableDropsKeptCodes(t *testing.T) {
	l := plugIn(t)
	d, _ := open(t, l, nil)
	ctx := context.Background()
	if err := d.Enable(ctx); err != nil {
		t.Fatal(err)
	}
	l.send("134567890123456780\r")
	time.Sleep(100 * time.Millisecond)
	if err := d.Disable(ctx); err != nil {
		t.Fatal(err)
	}
	l.send("281234567890123450\r") // read while disabled
	time.Sleep(100 * time.Millisecond)
	go func() {
		for d.dev.Waiting() != 1 {
			time.Sleep(time.Millisecond)
		}
		l.send("6212345678901234567\r")
	}()
	if s, err := readCode(t, d, 5*time.Second); err != nil || s.Code != "6212345678901234567" {
		t.Fatalf("ReadCode = %q, %v; want the code read after Disable only", s.Code, err)
	}
}

func TestNotConfigured(t *testing.T) {
	d := New()
	ctx := context.Background()
	if err := d.Enable(ctx); !errors.Is(err, scanner.ErrNotConnected) {
		t.Errorf("Enable = %v, want ErrNotConnected", err)
	}
	if _, err := d.ReadCode(ctx); !errors.Is(err, scanner.ErrNotConnected) {
		t.Errorf("ReadCode = %v, want ErrNotConnected", err)
	}
	if h, _ := d.Health(ctx); h.State != base.StateOffline {
		t.Errorf("Health = %+v, want offline", h)
	}
}

func TestMissingDeviceIsOffline(t *testing.T) {
	d := New()
	t.Cleanup(d.Close)
	if err := d.Configure(context.Background(), scanner.APIVersion1, map[string]string{"device": filepath.Join(t.TempDir(), "none"), "reconnect": "10ms"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if h, _ := d.Health(context.Background()); h.State != base.StateOffline || !strings.Contains(h.Detail, "opening") {
		t.Errorf("Health = %+v, want offline, saying the device could not be opened", h)
	}
}

func TestBadConfig(t *testing.T) {
	for _, tc := range []struct{ key, value string }{
		{"terminator", "etx"},
		{"baud", "fast"},
		{"baud", "0"},
		{"max_length", "-1"},
		{"reconnect", "soon"},
		{"prefix", "\x02"},
		{"symbology", "QR"},
		{"colour", "red"},
	} {
		err := New().Configure(context.Background(), scanner.APIVersion1, map[string]string{tc.key: tc.value})
		if err == nil || !strings.Contains(err.Error(), "config key "+tc.key) {
			t.Errorf("Configure(%s=%q): err = %v, want an error naming the key", tc.key, tc.value, err)
		}
	}
	if err := New().Configure(context.Background(), "v999", nil); err == nil {
		t.Error("Configure accepted API version v999")
	}
}

// The driver tells its watchers of an unplug, of the scanner coming back
// and of each bad read as they happen.
func TestEventsOfUnplugAndBadReads(t *testing.T) {
	l := plugIn(t)
	d, _ := open(t, l, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan base.Event, 64)
	go func() { _ = d.Watch(ctx, func(e base.Event) error { events <- e; return nil }) }()
	// until returns the first event of type typ and state, passing over
	// status events of other details on the way (an unplugged device's
	// detail changes as reading it, then opening it, fails).
	until := func(typ base.EventType, state string) base.Event {
		t.Helper()
		for {
			select {
			case e := <-events:
				if e.Type == typ && e.Health.State == state {
					return e
				}
				if e.Type != base.EventStatus {
					t.Fatalf("event %+v, want %s %s", e, typ, state)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("no %s %s event within 5s", typ, state)
			}
		}
	}
	until(base.EventStatus, base.StateIdle)
	l.unplug()
	if e := until(base.EventStatus, base.StateOffline); !strings.Contains(e.Health.Detail, scanner.ErrNotConnected.Error()) {
		t.Errorf("offline event %+v, want it to say the scanner is not connected", e)
	}
	time.Sleep(100 * time.Millisecond) // failed reopens
	offline := len(events)
	l.plug()
	until(base.EventStatus, base.StateIdle)
	if offline > 2 {
		t.Errorf("%d more offline events while unplugged, want one per cause, not one per retry", offline)
	}
	if err := d.Enable(ctx); err != nil {
		t.Fatal(err)
	}
	l.send("1345\x00\x1b67890123456789\r")
	if e := until(base.EventError, base.StateIdle); e.ErrorCode != "bad read" || !strings.Contains(e.ErrorMessage, "control character 0x00") {
		t.Errorf("error event %+v, want the bad read", e)
	}
}
