package fake

import (
	"context"
	"errors"
	"slices"
	"strconv"
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

// readCode runs ReadCode on sc with a 5s deadline.
func readCode(t *testing.T, sc scanner.Scanner) scanner.Scan {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := sc.ReadCode(ctx)
	if err != nil {
		t.Fatalf("ReadCode: %v", err)
	}
	return s
}

// noCode checks that ReadCode returns no code within d.
func noCode(t *testing.T, sc scanner.Scanner, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if s, err := sc.ReadCode(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ReadCode = %q, %v; want no code", s.Code, err)
	}
}

// waitReaders waits until n ReadCode calls wait on f.
func waitReaders(t *testing.T, f *Fake, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for f.readers() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d ReadCode calls waiting after 5s, want %d", f.readers(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestFakeConfiguredCodes(t *testing.T) {
	_, sc := connect(t, map[string]string{"codes": "134567890123456789, 281234567890123456 ,6212345678901234567", "interval": "5ms", "symbology": "code128"})
	var got []string
	for range 3 {
		s := readCode(t, sc) // the first enables the scanner
		if s.Symbology != "code128" || s.At.IsZero() {
			t.Errorf("scan %+v, want symbology code128 and a time", s)
		}
		got = append(got, s.Code)
	}
	if want := []string{"134567890123456789", "281234567890123456", "6212345678901234567"}; !slices.Equal(got, want) {
		t.Errorf("scans %q, want %q", got, want)
	}
	noCode(t, sc, 50*time.Millisecond) // each code once
}

func TestFakeConfiguredCodesPauseWhileDisabled(t *testing.T) {
	f, sc := connect(t, map[string]string{"codes": "a,b,c", "interval": "30ms"})
	ctx := context.Background()
	if got := readCode(t, sc).Code; got != "a" {
		t.Fatalf("first code %q, want a", got)
	}
	if err := sc.Disable(ctx); err != nil {
		t.Fatal(err)
	}
	left := f.queued()
	time.Sleep(100 * time.Millisecond)
	if n := f.queued(); n != left {
		t.Fatalf("%d codes left after 100ms disabled, want %d", n, left)
	}
	if left == 0 {
		t.Skip("all codes were read before Disable; the machine is too slow for this test")
	}
	var got []string
	for range left {
		got = append(got, readCode(t, sc).Code)
	}
	if want := []string{"a", "b", "c"}[3-left:]; !slices.Equal(got, want) {
		t.Errorf("after enabling again: %q, want %q", got, want)
	}
}

func TestFakeReadWhileDisabledIsDropped(t *testing.T) {
	f, sc := connect(t, nil)
	f.Read("before-enable")
	done := make(chan scanner.Scan, 1)
	go func() { done <- readCode(t, sc) }()
	waitReaders(t, f, 1)
	f.Read("enabled")
	if got := (<-done).Code; got != "enabled" {
		t.Errorf("ReadCode = %q, want the code read while enabled", got)
	}
}

func TestFakePendingIsBounded(t *testing.T) {
	f, sc := connect(t, nil)
	if err := sc.Enable(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range MaxPending + 2 {
		f.Read(string(rune('A' + i)))
	}
	var got []string
	for range MaxPending {
		got = append(got, readCode(t, sc).Code)
	}
	if got[0] != "C" || got[MaxPending-1] != string(rune('A'+MaxPending+1)) {
		t.Errorf("pending %q, want the last %d codes read, oldest first", got, MaxPending)
	}
	noCode(t, sc, 50*time.Millisecond)
}

func TestFakeDisableDropsPending(t *testing.T) {
	f, sc := connect(t, nil)
	ctx := context.Background()
	if err := sc.Enable(ctx); err != nil {
		t.Fatal(err)
	}
	f.Read("stale")
	if err := sc.Disable(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan scanner.Scan, 1)
	go func() { done <- readCode(t, sc) }()
	waitReaders(t, f, 1)
	f.Read("fresh")
	if got := (<-done).Code; got != "fresh" {
		t.Errorf("ReadCode = %q, want fresh: Disable kept a stale code", got)
	}
}

func TestFakeEachCodeToOneReader(t *testing.T) {
	f, sc := connect(t, nil)
	const n = 8
	got := make(chan string, n)
	for range n {
		go func() { got <- readCode(t, sc).Code }()
	}
	waitReaders(t, f, n)
	for i := range n {
		f.Read(strconv.Itoa(i))
	}
	seen := map[string]bool{}
	for range n {
		c := <-got
		if seen[c] {
			t.Errorf("code %s went to two readers", c)
		}
		seen[c] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct codes delivered, want %d", len(seen), n)
	}
}

func TestFakeReaderThatGaveUpTakesNothing(t *testing.T) {
	f, sc := connect(t, nil)
	noCode(t, sc, 50*time.Millisecond)
	waitReaders(t, f, 0) // the server side of the call above gives up on its own time
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := f.ReadCode(ctx)
		done <- err
	}()
	waitReaders(t, f, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("ReadCode after cancel = %v, want context.Canceled", err)
	}
	if n := f.readers(); n != 0 {
		t.Fatalf("%d readers still waiting after they gave up", n)
	}
	f.Read("kept")
	if got := readCode(t, sc).Code; got != "kept" {
		t.Errorf("ReadCode = %q, want the code read after the others gave up", got)
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
	if got := readCode(t, sc); !got.At.Equal(at) || got.Symbology != "qr" {
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
	if _, err := sc.ReadCode(ctx); !errors.Is(err, scanner.ErrNotConnected) {
		t.Errorf("ReadCode: err = %v, want scanner.ErrNotConnected", err)
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
