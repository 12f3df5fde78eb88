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

// Harness describes a scanner implementation to RunConformance.
type Harness struct {
	// New returns a fresh implementation. It is called once.
	New func(t *testing.T) scanner.Scanner
	// Config is passed to Configure. With it the scanner must be connected
	// and must read only the codes Trigger presents.
	Config map[string]string
	// Trigger makes the implementation New returned read code, as if a
	// customer showed it (for the Fake: its Read method).
	Trigger func(impl scanner.Scanner, code string)
}

// Connect serves impl through real go-plugin gRPC in this process and
// returns the host-side client. Both ends are closed when t ends.
func Connect(t testing.TB, impl scanner.Scanner) scanner.Scanner {
	t.Helper()
	return basetest.Connect[scanner.Scanner](t, base.KindScanner, scanner.NewPlugin(impl))
}

// syncPrefix marks the codes RunConformance triggers until the Scans
// stream delivers, to know the stream is live; the checks skip them.
const syncPrefix = "SYNC-"

// Codes RunConformance triggers: a UnionPay, a WeChat and an Alipay
// payment code.
const (
	codeEnabled  = "6212345678901234567"
	codeDisabled = "134567890123456789"
	codeAgain    = "28123456789012345678"
)

// RunConformance checks that a scanner implementation keeps the
// scanner.Scanner contract, talking to it only through gRPC as the runtime
// does: Info, API version negotiation, Health, Enable, a Scans stream that
// delivers a triggered code with its symbology and the time it was read,
// Disable dropping codes read while disabled, and Scans ending when its
// context is cancelled. The steps depend on each other; the first failure
// stops the suite.
func RunConformance(t *testing.T, h Harness) {
	if h.New == nil || h.Trigger == nil {
		t.Fatal("Harness.New or Harness.Trigger is nil")
	}
	impl := h.New(t)
	sc := Connect(t, impl)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	basetest.RunBase(t, ctx, sc, basetest.Base{Kind: base.KindScanner, APIVersion: scanner.APIVersion1, Config: h.Config})
	basetest.Step(t, "Enable", func(t *testing.T) {
		if err := sc.Enable(ctx); err != nil {
			t.Fatalf("Enable: %v", err)
		}
	})

	scans := make(chan scanner.Scan, 64)
	scansCtx, stopScans := context.WithCancel(ctx)
	defer stopScans()
	ended := make(chan error, 1)
	go func() {
		ended <- sc.Scans(scansCtx, func(s scanner.Scan) error {
			select {
			case scans <- s:
				return nil
			case <-scansCtx.Done():
				return scansCtx.Err()
			}
		})
	}()
	// next returns the next scan that is not a sync code, or false if none
	// arrives within d.
	next := func(t *testing.T, d time.Duration) (scanner.Scan, bool) {
		t.Helper()
		timeout := time.After(d)
		for {
			select {
			case s := <-scans:
				if !strings.HasPrefix(s.Code, syncPrefix) {
					return s, true
				}
			case err := <-ended:
				t.Fatalf("Scans ended early: %v", err)
			case <-timeout:
				return scanner.Scan{}, false
			}
		}
	}

	basetest.Step(t, "ScansStreamDelivers", func(t *testing.T) {
		deadline := time.Now().Add(10 * time.Second)
		for i := 1; ; i++ {
			h.Trigger(impl, fmt.Sprintf("%s%d", syncPrefix, i))
			select {
			case s := <-scans:
				if !strings.HasPrefix(s.Code, syncPrefix) {
					t.Fatalf("Scans delivered %q, which nobody triggered", s.Code)
				}
				return
			case err := <-ended:
				t.Fatalf("Scans ended early: %v", err)
			case <-time.After(100 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("no triggered code arrived through Scans within 10s (%d triggered)", i)
			}
		}
	})
	basetest.Step(t, "ScanArrives", func(t *testing.T) {
		before := time.Now()
		h.Trigger(impl, codeEnabled)
		s, ok := next(t, 5*time.Second)
		if !ok {
			t.Fatalf("code %s did not arrive within 5s", codeEnabled)
		}
		if s.Code != codeEnabled {
			t.Fatalf("Scans delivered %q, want %q", s.Code, codeEnabled)
		}
		if s.Symbology == "" {
			t.Error("the scan has no symbology")
		}
		if s.At.Before(before.Add(-time.Minute)) || s.At.After(time.Now().Add(time.Minute)) {
			t.Errorf("the scan was read at %v, want about %v", s.At, before)
		}
	})
	basetest.Step(t, "Disable", func(t *testing.T) {
		if err := sc.Disable(ctx); err != nil {
			t.Fatalf("Disable: %v", err)
		}
	})
	basetest.Step(t, "CodeReadWhileDisabledIsDropped", func(t *testing.T) {
		h.Trigger(impl, codeDisabled)
		if s, ok := next(t, 300*time.Millisecond); ok {
			t.Fatalf("Scans delivered %q while the scanner was disabled", s.Code)
		}
		if err := sc.Enable(ctx); err != nil {
			t.Fatalf("Enable: %v", err)
		}
		h.Trigger(impl, codeAgain)
		s, ok := next(t, 5*time.Second)
		if !ok {
			t.Fatalf("code %s did not arrive within 5s of enabling again", codeAgain)
		}
		if s.Code != codeAgain {
			t.Fatalf("Scans delivered %q after enabling again, want %q", s.Code, codeAgain)
		}
		if err := sc.Disable(ctx); err != nil {
			t.Fatalf("Disable: %v", err)
		}
	})
	basetest.Step(t, "CancelEndsScans", func(t *testing.T) {
		stopScans()
		select {
		case err := <-ended:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Scans ended with %v, want nil or context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Scans still running 5s after its context was cancelled")
		}
	})
}
