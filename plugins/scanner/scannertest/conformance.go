package scannertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/scanner"
)

// Harness describes a scanner implementation to RunConformance: New for one
// the suite serves in the test's process, or Dial for one running as a
// plugin process of its own.
type Harness struct {
	// New returns a fresh implementation. It is called once.
	New func(t *testing.T) scanner.Scanner
	// Dial, used when New is nil, returns the host-side client of a
	// scanner served elsewhere, such as a plugin process the test started
	// through runtime/pluginhost; RunConformance drives that client as it
	// is. It is called once, and Trigger is then given that client.
	Dial func(t *testing.T) scanner.Scanner
	// Config is passed to Configure. With it the scanner must be connected
	// and must read only the codes Trigger presents.
	Config map[string]string
	// Trigger makes the implementation New returned (or the client Dial
	// returned) read code, as if a customer showed it (for the Fake: its
	// Read method; for a plugin process: a simulator of its device).
	Trigger func(impl scanner.Scanner, code string)
}

// Connect serves impl through real go-plugin gRPC in this process and
// returns the host-side client. Both ends are closed when t ends.
func Connect(t testing.TB, impl scanner.Scanner) scanner.Scanner {
	t.Helper()
	return basetest.Connect[scanner.Scanner](t, base.KindScanner, scanner.NewPlugin(impl))
}

// syncPrefix marks the codes RunConformance triggers until a ReadCode
// returns, when it cannot know whether the decoder is on yet.
const syncPrefix = "SYNC-"

// Codes RunConformance triggers: UnionPay, WeChat and Alipay payment codes.
const (
	codeEnabled  = "6212345678901234567"
	codeFirst    = "134567890123456789"
	codeSecond   = "281234567890123456"
	codeDisabled = "134567890123456780"
	codeStale    = "281234567890123450"
	codeLate     = "6212345678901234560"
)

// result is what one ReadCode returned.
type result struct {
	scan scanner.Scan
	err  error
}

// RunConformance checks that a scanner implementation keeps the
// scanner.Scanner contract, talking to it only through gRPC as the runtime
// does: Info, API version negotiation, Health, Enable and Disable;
// ReadCode enabling the decoder itself, returning a triggered code with
// its symbology and the time it was read, handing each code to one of two
// concurrent readers only, ending with context.DeadlineExceeded or
// context.Canceled when its context does and losing no code to a reader
// that gave up; codes read while disabled dropped, and Disable dropping
// the codes nobody received. The steps depend on each other; the first
// failure stops the suite.
func RunConformance(t *testing.T, h Harness) {
	if (h.New == nil && h.Dial == nil) || h.Trigger == nil {
		t.Fatal("Harness.New and Harness.Dial, or Harness.Trigger, are nil")
	}
	var impl, sc scanner.Scanner
	if h.New != nil {
		impl = h.New(t)
		sc = Connect(t, impl)
	} else {
		sc = h.Dial(t)
		impl = sc
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// read starts a ReadCode that gives up after d.
	read := func(d time.Duration) <-chan result {
		done := make(chan result, 1)
		go func() {
			rctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			s, err := sc.ReadCode(rctx)
			done <- result{s, err}
		}()
		return done
	}
	// await waits up to d for r.
	await := func(t *testing.T, r <-chan result, d time.Duration) (result, bool) {
		t.Helper()
		select {
		case res := <-r:
			return res, true
		case <-time.After(d):
			return result{}, false
		}
	}
	// syncRead starts a ReadCode and triggers sync codes until it returns
	// one, for when the decoder may not be on yet; it fails if the ReadCode
	// returns anything but a sync code. It disables the scanner after, to
	// drop any sync code triggered late.
	syncRead := func(t *testing.T) {
		t.Helper()
		r := read(15 * time.Second)
		for i := 1; ; i++ {
			h.Trigger(impl, fmt.Sprintf("%s%d", syncPrefix, i))
			if res, ok := await(t, r, 200*time.Millisecond); ok {
				if res.err != nil {
					t.Fatalf("ReadCode: %v", res.err)
				}
				if !strings.HasPrefix(res.scan.Code, syncPrefix) {
					t.Fatalf("ReadCode returned %q, which was read while the scanner was disabled or before Disable", res.scan.Code)
				}
				break
			}
			if i == 50 {
				t.Fatalf("ReadCode returned no code within 10s, %d triggered", i)
			}
		}
		if err := sc.Disable(ctx); err != nil {
			t.Fatalf("Disable: %v", err)
		}
	}
	// want checks that res is a scan of code.
	want := func(t *testing.T, res result, ok bool, code string) {
		t.Helper()
		if !ok {
			t.Fatalf("ReadCode returned nothing within 5s of %s being read", code)
		}
		if res.err != nil || res.scan.Code != code {
			t.Fatalf("ReadCode = %q, %v; want %q", res.scan.Code, res.err, code)
		}
	}

	basetest.RunBase(t, ctx, sc, basetest.Base{Kind: base.KindScanner, APIVersion: scanner.APIVersion1, Config: h.Config})
	basetest.Step(t, "Enable", func(t *testing.T) {
		if err := sc.Enable(ctx); err != nil {
			t.Fatalf("Enable: %v", err)
		}
	})
	basetest.Step(t, "Disable", func(t *testing.T) {
		if err := sc.Disable(ctx); err != nil {
			t.Fatalf("Disable: %v", err)
		}
	})
	basetest.Step(t, "ReadCodeEnables", syncRead)
	basetest.Step(t, "ReadCodeDelivers", func(t *testing.T) {
		if err := sc.Enable(ctx); err != nil {
			t.Fatalf("Enable: %v", err)
		}
		before := time.Now()
		r := read(10 * time.Second)
		h.Trigger(impl, codeEnabled)
		res, ok := await(t, r, 5*time.Second)
		want(t, res, ok, codeEnabled)
		if res.scan.Symbology == "" {
			t.Error("the scan has no symbology")
		}
		if at := res.scan.At; at.Before(before.Add(-time.Minute)) || at.After(time.Now().Add(time.Minute)) {
			t.Errorf("the scan was read at %v, want about %v", at, before)
		}
	})
	basetest.Step(t, "OneCodeOneReader", func(t *testing.T) {
		a, b := read(20*time.Second), read(20*time.Second)
		time.Sleep(300 * time.Millisecond) // both wait
		h.Trigger(impl, codeFirst)
		var first result
		select {
		case first = <-a:
			a = nil
		case first = <-b:
			b = nil
		case <-time.After(5 * time.Second):
			t.Fatalf("neither of two ReadCode calls returned within 5s of %s being read", codeFirst)
		}
		want(t, first, true, codeFirst)
		other := a
		if other == nil {
			other = b
		}
		if res, ok := await(t, other, 500*time.Millisecond); ok {
			t.Fatalf("the second ReadCode returned %q, %v with only %s read: a code went to two readers", res.scan.Code, res.err, codeFirst)
		}
		h.Trigger(impl, codeSecond)
		res, ok := await(t, other, 5*time.Second)
		want(t, res, ok, codeSecond)
	})
	basetest.Step(t, "ReadCodeTimesOut", func(t *testing.T) {
		start := time.Now()
		res, ok := await(t, read(300*time.Millisecond), 5*time.Second)
		if !ok {
			t.Fatal("ReadCode still waiting 5s after its 300ms deadline")
		}
		if !errors.Is(res.err, context.DeadlineExceeded) {
			t.Fatalf("ReadCode past its deadline = %q, %v; want context.DeadlineExceeded", res.scan.Code, res.err)
		}
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Errorf("ReadCode gave up after %v, before its 300ms deadline", d)
		}
		rctx, cancelRead := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			_, err := sc.ReadCode(rctx)
			done <- err
		}()
		time.Sleep(100 * time.Millisecond)
		cancelRead()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("ReadCode after cancel = %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("ReadCode still waiting 5s after it was cancelled")
		}
	})
	basetest.Step(t, "NoCodeLostToAReaderThatGaveUp", func(t *testing.T) {
		time.Sleep(200 * time.Millisecond) // for a driver to see the readers gone
		h.Trigger(impl, codeLate)
		res, ok := await(t, read(10*time.Second), 5*time.Second)
		want(t, res, ok, codeLate)
	})
	basetest.Step(t, "CodeReadWhileDisabledIsDropped", func(t *testing.T) {
		if err := sc.Disable(ctx); err != nil {
			t.Fatalf("Disable: %v", err)
		}
		h.Trigger(impl, codeDisabled)
		time.Sleep(100 * time.Millisecond)
		syncRead(t)
	})
	basetest.Step(t, "DisableDropsPending", func(t *testing.T) {
		if err := sc.Enable(ctx); err != nil {
			t.Fatalf("Enable: %v", err)
		}
		h.Trigger(impl, codeStale) // nobody reads it
		time.Sleep(100 * time.Millisecond)
		if err := sc.Disable(ctx); err != nil {
			t.Fatalf("Disable: %v", err)
		}
		syncRead(t)
	})
}
