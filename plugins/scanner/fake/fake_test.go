package fake

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/scanner"
	"github.com/posrt/posrt/plugins/scanner/scannertest"
)

// connect returns a Fake configured with config and its gRPC client.
func connect(t *testing.T, config map[string]string) (*Fake, scanner.Scanner) {
	t.Helper()
	f := NewFake()
	sc := scannertest.Connect(t, f)
	if err := sc.Configure(context.Background(), scanner.APIVersion1, config); err != nil {
		t.Fatalf("Configure(%v): %v", config, err)
	}
	return f, sc
}

// collector runs Scans on sc until the test ends and gathers the scans.
type collector struct {
	scans chan scanner.Scan
	ended chan error
}

func collect(t *testing.T, sc scanner.Scanner) *collector {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &collector{scans: make(chan scanner.Scan, 64), ended: make(chan error, 1)}
	go func() {
		c.ended <- sc.Scans(ctx, func(s scanner.Scan) error {
			c.scans <- s
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-c.ended
	})
	return c
}

// want waits for the next n scans and returns their codes.
func (c *collector) want(t *testing.T, n int) []scanner.Scan {
	t.Helper()
	var got []scanner.Scan
	timeout := time.After(5 * time.Second)
	for len(got) < n {
		select {
		case s := <-c.scans:
			got = append(got, s)
		case err := <-c.ended:
			t.Fatalf("Scans ended: %v", err)
		case <-timeout:
			t.Fatalf("got %d scans in 5s, want %d: %v", len(got), n, got)
		}
	}
	return got
}

// none checks that no scan arrives within d.
func (c *collector) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case s := <-c.scans:
		t.Errorf("unexpected scan %q", s.Code)
	case <-time.After(d):
	}
}

func codes(scans []scanner.Scan) []string {
	out := make([]string, len(scans))
	for i, s := range scans {
		out[i] = s.Code
	}
	return out
}

// waitSubscribers waits until n Scans calls run on f.
func waitSubscribers(t *testing.T, f *Fake, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for f.subscribers() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d Scans subscribers after 5s, want %d", f.subscribers(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestFakeConfiguredCodes(t *testing.T) {
	_, sc := connect(t, map[string]string{"codes": "134567890123456789, 281234567890123456 ,6212345678901234567", "interval": "5ms", "symbology": "code128"})
	c := collect(t, sc)
	c.none(t, 50*time.Millisecond) // nothing is read before Enable
	if err := sc.Enable(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := c.want(t, 3)
	if want := []string{"134567890123456789", "281234567890123456", "6212345678901234567"}; !slices.Equal(codes(got), want) {
		t.Errorf("scans %q, want %q", codes(got), want)
	}
	for _, s := range got {
		if s.Symbology != "code128" || s.At.IsZero() {
			t.Errorf("scan %+v, want symbology code128 and a time", s)
		}
	}
	c.none(t, 50*time.Millisecond) // each code once
}

func TestFakeConfiguredCodesPauseWhileDisabled(t *testing.T) {
	f, sc := connect(t, map[string]string{"codes": "a,b,c", "interval": "50ms"})
	ctx := context.Background()
	c := collect(t, sc)
	waitSubscribers(t, f, 1)
	if err := sc.Enable(ctx); err != nil {
		t.Fatal(err)
	}
	got := c.want(t, 1)
	if err := sc.Disable(ctx); err != nil {
		t.Fatal(err)
	}
	left := f.queued()
	if left == 0 {
		t.Skip("all codes were read before Disable; the machine is too slow for this test")
	}
	got = append(got, c.want(t, 3-left-1)...) // read before Disable
	c.none(t, 100*time.Millisecond)
	if n := f.queued(); n != left {
		t.Fatalf("%d codes left after 100ms disabled, want %d", n, left)
	}
	if err := sc.Enable(ctx); err != nil {
		t.Fatal(err)
	}
	got = append(got, c.want(t, left)...)
	if !slices.Equal(codes(got), []string{"a", "b", "c"}) {
		t.Errorf("scans %q, want a b c each once", codes(got))
	}
	c.none(t, 60*time.Millisecond)
}

func TestFakeReadWhileDisabledIsDropped(t *testing.T) {
	f, sc := connect(t, nil)
	c := collect(t, sc)
	waitSubscribers(t, f, 1)
	f.Read("before-enable")
	if err := sc.Enable(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.Read("enabled")
	if got := codes(c.want(t, 1)); got[0] != "enabled" {
		t.Errorf("first scan %q, want the one read while enabled", got[0])
	}
}

func TestFakeBacklog(t *testing.T) {
	f, sc := connect(t, nil)
	ctx := context.Background()
	if err := sc.Enable(ctx); err != nil {
		t.Fatal(err)
	}
	// Read before anyone subscribed: kept for the first subscriber.
	for i := range MaxBacklog + 2 {
		f.Read(string(rune('A' + i)))
	}
	got := codes(collect(t, sc).want(t, MaxBacklog))
	if got[0] != "C" || got[MaxBacklog-1] != string(rune('A'+MaxBacklog+1)) {
		t.Errorf("backlog %q, want the last %d codes read", got, MaxBacklog)
	}
}

func TestFakeDisableDropsBacklog(t *testing.T) {
	f, sc := connect(t, nil)
	ctx := context.Background()
	if err := sc.Enable(ctx); err != nil {
		t.Fatal(err)
	}
	f.Read("stale")
	if err := sc.Disable(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sc.Enable(ctx); err != nil {
		t.Fatal(err)
	}
	c := collect(t, sc)
	waitSubscribers(t, f, 1)
	f.Read("fresh")
	if got := codes(c.want(t, 1)); got[0] != "fresh" {
		t.Errorf("first scan %q, want fresh: Disable keeps stale codes", got[0])
	}
}

func TestFakeEverySubscriberGetsEveryScan(t *testing.T) {
	f, sc := connect(t, nil)
	if err := sc.Enable(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, b := collect(t, sc), collect(t, sc)
	waitSubscribers(t, f, 2)
	f.Read("one")
	f.Read("two")
	for name, c := range map[string]*collector{"first": a, "second": b} {
		if got := codes(c.want(t, 2)); !slices.Equal(got, []string{"one", "two"}) {
			t.Errorf("%s subscriber got %q, want one two", name, got)
		}
	}
}

func TestFakeScansEnds(t *testing.T) {
	f := NewFake()
	if err := f.Enable(context.Background()); err != nil {
		t.Fatal(err)
	}
	errStop := errors.New("stop")
	ended := make(chan error, 1)
	go func() {
		ended <- f.Scans(context.Background(), func(scanner.Scan) error { return errStop })
	}()
	waitSubscribers(t, f, 1)
	f.Read("x")
	if err := <-ended; !errors.Is(err, errStop) {
		t.Errorf("Scans with a failing each = %v, want its error", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() { ended <- f.Scans(ctx, func(scanner.Scan) error { return nil }) }()
	waitSubscribers(t, f, 1)
	cancel()
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Errorf("Scans after cancel = %v, want context.Canceled", err)
	}
	if n := f.subscribers(); n != 0 {
		t.Errorf("%d subscribers left", n)
	}
}

func TestFakeScanTime(t *testing.T) {
	f, sc := connect(t, nil)
	at := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)
	f.now = func() time.Time { return at }
	if err := sc.Enable(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.Read("x")
	if got := collect(t, sc).want(t, 1)[0]; !got.At.Equal(at) || got.Symbology != "qr" {
		t.Errorf("scan %+v, want read at %v by qr", got, at)
	}
}

func TestFakeNotConnected(t *testing.T) {
	_, sc := connect(t, map[string]string{"connected": "false"})
	ctx := context.Background()
	if err := sc.Enable(ctx); !errors.Is(err, scanner.ErrNotConnected) {
		t.Errorf("Enable: err = %v, want scanner.ErrNotConnected", err)
	}
	if err := sc.Disable(ctx); !errors.Is(err, scanner.ErrNotConnected) {
		t.Errorf("Disable: err = %v, want scanner.ErrNotConnected", err)
	}
	if err := sc.Scans(ctx, func(scanner.Scan) error { return nil }); !errors.Is(err, scanner.ErrNotConnected) {
		t.Errorf("Scans: err = %v, want scanner.ErrNotConnected", err)
	}
	if h, err := sc.Health(ctx); err != nil || h.State != base.StateOffline {
		t.Errorf("Health = %+v, %v; want offline", h, err)
	}
}

func TestFakeRejectsBadConfig(t *testing.T) {
	_, sc := connect(t, map[string]string{"symbology": "ean13"})
	for _, tc := range []struct{ key, value string }{
		{"interval", "0s"},
		{"interval", "soon"},
		{"symbology", "QR code"},
		{"connected", "no"},
		{"latency", "soon"},
		{"crash_after", "x"},
		{"colour", "red"},
	} {
		err := sc.Configure(context.Background(), scanner.APIVersion1, map[string]string{tc.key: tc.value})
		if err == nil || !strings.Contains(err.Error(), "config key "+tc.key) {
			t.Errorf("Configure(%s=%q): err = %v, want an error naming the key", tc.key, tc.value, err)
		}
	}
	if err := sc.Configure(context.Background(), "v999", nil); err == nil {
		t.Error("Configure accepted API version v999")
	}
}

func TestFakeInfo(t *testing.T) {
	info, err := NewFake().Info(context.Background())
	if err != nil || info.Kind != base.KindScanner || info.Name != "fake-scanner" || !slices.Equal(info.APIVersions, scanner.APIVersions) {
		t.Errorf("Info = %+v, %v", info, err)
	}
}

func TestFakeCrashAfter(t *testing.T) {
	f := NewFake()
	var exits basetest.Exits
	f.faults.Exit = exits.Exit
	sc := scannertest.Connect(t, f)
	ctx := context.Background()
	if err := sc.Configure(ctx, scanner.APIVersion1, map[string]string{"crash_after": "1"}); err != nil {
		t.Fatal(err)
	}
	if err := sc.Enable(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Health(ctx); err != nil || len(exits.Codes()) != 0 {
		t.Fatalf("Health: %v, exited %v; want no crash", err, exits.Codes())
	}
	_ = sc.Disable(ctx)
	if got := exits.Codes(); !slices.Equal(got, []int{2}) {
		t.Errorf("after the second device call: exited %v, want [2]", got)
	}
}
func TestFakeConformance(t *testing.T) {
	for name, config := range map[string]map[string]string{
		"defaults":   nil,
		"configured": {"symbology": "code128", "interval": "10ms", "latency": "1ms"},
	} {
		t.Run(name, func(t *testing.T) {
			scannertest.RunConformance(t, scannertest.Harness{
				New:     func(*testing.T) scanner.Scanner { return NewFake() },
				Config:  config,
				Trigger: func(impl scanner.Scanner, code string) { impl.(*Fake).Read(code) },
			})
		})
	}
}
