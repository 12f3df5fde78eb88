package hid

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/scanner"
	"github.com/posrt/posrt/plugins/scanner/scannertest"
)

// fifo stands in for the scanner's event device: a named pipe the driver
// opens, which the test writes recorded input events into.
type fifo struct {
	t    *testing.T
	path string
	mu   sync.Mutex
	w    *os.File // nil while unplugged
}

func plugIn(t *testing.T) *fifo {
	t.Helper()
	f := &fifo{t: t, path: filepath.Join(t.TempDir(), "usb-scanner-event-kbd")}
	f.plug()
	t.Cleanup(f.unplug)
	return f
}

// plug makes the device node and opens it read-write, so that it never
// lacks a writer while plugged.
func (f *fifo) plug() {
	f.t.Helper()
	if err := syscall.Mkfifo(f.path, 0o600); err != nil {
		f.t.Fatal(err)
	}
	w, err := os.OpenFile(f.path, os.O_RDWR, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	f.w = w
	f.mu.Unlock()
}

// unplug removes the node and closes it: the driver reads the end.
func (f *fifo) unplug() {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = os.Remove(f.path)
	if f.w != nil {
		_ = f.w.Close()
		f.w = nil
	}
}

// scan writes the events a scanner sends for text.
func (f *fifo) scan(text string) {
	p := record(f.t, WordBytes, text)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.w == nil {
		return
	}
	if _, err := f.w.Write(p); err != nil {
		f.t.Errorf("writing events: %v", err)
	}
}

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

// grabs records the grabs asked for.
type grabs struct {
	mu  sync.Mutex
	fds []uintptr
}

func (g *grabs) grab(fd uintptr) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fds = append(g.fds, fd)
	return nil
}

func (g *grabs) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.fds)
}

func open(t *testing.T, f *fifo, grab Grab, extra map[string]string) (*Driver, *logBuffer) {
	t.Helper()
	lb := new(logBuffer)
	d := NewWith(hclog.New(&hclog.LoggerOptions{Output: lb, Level: hclog.Info}), grab)
	t.Cleanup(d.Close)
	cfg := map[string]string{"device": f.path, "reconnect": "20ms"}
	for k, v := range extra {
		cfg[k] = v
	}
	if err := d.Configure(context.Background(), scanner.APIVersion1, cfg); err != nil {
		t.Fatal(err)
	}
	waitState(t, d, base.StateIdle)
	return d, lb
}

func waitState(t *testing.T, d *Driver, state string) base.Health {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h, _ := d.Health(context.Background())
		if h.State == state {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("Health %+v after 5s, want %s", h, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func readCode(d *Driver, within time.Duration) (scanner.Scan, error) {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	return d.ReadCode(ctx)
}

func TestConformance(t *testing.T) {
	f := plugIn(t)
	g := new(grabs)
	scannertest.RunConformance(t, scannertest.Harness{
		New: func(t *testing.T) scanner.Scanner {
			d := NewWith(hclog.NewNullLogger(), g.grab)
			t.Cleanup(d.Close)
			return d
		},
		Config:  map[string]string{"device": f.path, "reconnect": "20ms", "symbology": "qr"},
		Trigger: func(_ scanner.Scanner, code string) { f.scan(code + "\n") },
	})
	if g.count() == 0 {
		t.Error("the driver never asked to grab the device")
	}
}

func TestGrabAskedFor(t *testing.T) {
	f := plugIn(t)
	g := new(grabs)
	d, _ := open(t, f, g.grab, nil)
	if g.count() != 1 {
		t.Errorf("%d grabs asked for, want 1", g.count())
	}
	if h, _ := d.Health(context.Background()); h.Detail != "" {
		t.Errorf("Health detail %q with the grab done, want none", h.Detail)
	}
	if _, _ = open(t, f, g.grab, map[string]string{"grab": "false"}); g.count() != 1 {
		t.Errorf("grab = false: %d grabs asked for, want still 1", g.count())
	}
}

// On a pipe EVIOCGRAB cannot be done: the driver says so and reads on.
func TestGrabRefusedIsSaid(t *testing.T) {
	f := plugIn(t)
	d, lb := open(t, f, GrabEvdev, nil)
	h := waitState(t, d, base.StateIdle)
	if !strings.Contains(h.Detail, "not grabbed") || !strings.Contains(h.Detail, "EVIOCGRAB") {
		t.Errorf("Health detail %q, want it to say the device is not grabbed", h.Detail)
	}
	if !strings.Contains(lb.String(), "not grabbed") {
		t.Errorf("log %s; want it to say the device is not grabbed", lb)
	}
	if err := d.Enable(context.Background()); err != nil { // a code read while disabled is dropped
		t.Fatal(err)
	}
	f.scan("134567890123456789\n")
	if s, err := readCode(d, 5*time.Second); err != nil || s.Code != "134567890123456789" {
		t.Errorf("ReadCode = %q, %v; want the code read from the ungrabbed device", s.Code, err)
	}
}

func TestBadReadsAreDropped(t *testing.T) {
	f := plugIn(t)
	d, lb := open(t, f, new(grabs).grab, map[string]string{"max_length": "20"})
	if err := d.Enable(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.scan(strings.Repeat("6", 21) + "\n")
	f.mu.Lock()
	_, _ = f.w.Write(AppendEvent(nil, WordBytes, 0, 0, Event{Type: EvKey, Code: 29, Value: 1})) // Left Ctrl
	f.mu.Unlock()
	f.scan("1\nAb12\n")
	s, err := readCode(d, 5*time.Second)
	if err != nil || s.Code != "Ab12" || s.At.IsZero() {
		t.Fatalf("ReadCode = %+v, %v; want Ab12 only", s, err)
	}
	if s, err := readCode(d, 100*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ReadCode = %q, %v; want no code: a bad read was handed out", s.Code, err)
	}
	if log := lb.String(); strings.Count(log, "bad read dropped") != 2 || !strings.Contains(log, "key code 29") {
		t.Errorf("log %s; want the two bad reads", log)
	}
}

func TestUnpluggedDuringAWait(t *testing.T) {
	f := plugIn(t)
	g := new(grabs)
	d, _ := open(t, f, g.grab, nil)
	got := make(chan scanner.Scan, 1)
	errs := make(chan error, 1)
	go func() {
		s, err := readCode(d, 20*time.Second)
		got <- s
		errs <- err
	}()
	for d.dev.Waiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	f.unplug()
	waitState(t, d, base.StateOffline)
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-errs:
		t.Fatalf("ReadCode ended while the scanner was unplugged: %v", err)
	default:
	}
	f.plug()
	waitState(t, d, base.StateIdle)
	if g.count() != 2 {
		t.Errorf("%d grabs asked for, want one per open: 2", g.count())
	}
	f.scan("6212345678901234567\n")
	if s, err := <-got, <-errs; err != nil || s.Code != "6212345678901234567" {
		t.Fatalf("ReadCode = %q, %v; want the code read after the scanner came back", s.Code, err)
	}
}

func TestDisableDropsKeptCodes(t *testing.T) {
	f := plugIn(t)
	d, _ := open(t, f, new(grabs).grab, nil)
	ctx := context.Background()
	if err := d.Enable(ctx); err != nil {
		t.Fatal(err)
	}
	f.scan("134567890123456780\n")
	time.Sleep(100 * time.Millisecond)
	if err := d.Disable(ctx); err != nil {
		t.Fatal(err)
	}
	go func() {
		for d.dev.Waiting() != 1 {
			time.Sleep(time.Millisecond)
		}
		f.scan("281234567890123456\n")
	}()
	if s, err := readCode(d, 5*time.Second); err != nil || s.Code != "281234567890123456" {
		t.Fatalf("ReadCode = %q, %v; want the code read after Disable only", s.Code, err)
	}
}

func TestBadConfig(t *testing.T) {
	for _, tc := range []struct{ key, value string }{
		{"grab", "yes"},
		{"max_length", "0"},
		{"reconnect", "soon"},
		{"symbology", "QR"},
		{"colour", "red"},
	} {
		err := New().Configure(context.Background(), scanner.APIVersion1, map[string]string{"device": "/dev/null", tc.key: tc.value})
		if err == nil || !strings.Contains(err.Error(), "config key "+tc.key) {
			t.Errorf("Configure(%s=%q): err = %v, want an error naming the key", tc.key, tc.value, err)
		}
	}
	if err := New().Configure(context.Background(), scanner.APIVersion1, nil); err == nil || !strings.Contains(err.Error(), "config key device") {
		t.Errorf("Configure without a device: err = %v, want one naming the key", err)
	}
}
