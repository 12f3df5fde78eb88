package scannertest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/scanner"
	"github.com/posrt/posrt/plugins/scanner/fake"
)

// Broken scanners RunConformance must fail, each with the step it must
// fail at.
type (
	cannotEnable  struct{ *fake.Fake }
	neverDisables struct{ *fake.Fake }
	noScanTime    struct{ *fake.Fake }
	anyAPIVersion struct{ *fake.Fake }
	// sharesReads lets a ReadCode that starts while another waits share
	// that one's code, as a careless driver coalescing reads would.
	sharesReads struct {
		*fake.Fake
		state *inFlight
	}
	// noAutoEnable reads nothing unless Enable was called.
	noAutoEnable struct {
		*fake.Fake
		on *atomic.Bool
	}
	// keepsReading goes on reading after its caller gave up and throws the
	// code away, as a driver whose device read outlives the call would.
	keepsReading struct{ *fake.Fake }
)

type inFlight struct {
	mu sync.Mutex
	f  *flight // the read under way, if any
}

type flight struct {
	done chan struct{}
	res  scanner.Scan
	err  error
}

func (s cannotEnable) Enable(context.Context) error { return scanner.ErrNotConnected }

func (s neverDisables) Disable(context.Context) error { return nil }

func (s noScanTime) ReadCode(ctx context.Context) (scanner.Scan, error) {
	sc, err := s.Fake.ReadCode(ctx)
	sc.At = time.Time{}
	return sc, err
}

func (s anyAPIVersion) Configure(ctx context.Context, _ string, config map[string]string) error {
	return s.Fake.Configure(ctx, scanner.APIVersion1, config)
}

func (s sharesReads) ReadCode(ctx context.Context) (scanner.Scan, error) {
	st := s.state
	st.mu.Lock()
	if f := st.f; f != nil {
		st.mu.Unlock()
		<-f.done
		return f.res, f.err
	}
	f := &flight{done: make(chan struct{})}
	st.f = f
	st.mu.Unlock()
	f.res, f.err = s.Fake.ReadCode(ctx)
	st.mu.Lock()
	st.f = nil
	st.mu.Unlock()
	close(f.done)
	return f.res, f.err
}

func (s noAutoEnable) Enable(ctx context.Context) error {
	s.on.Store(true)
	return s.Fake.Enable(ctx)
}

func (s noAutoEnable) Disable(ctx context.Context) error {
	s.on.Store(false)
	return s.Fake.Disable(ctx)
}

func (s noAutoEnable) ReadCode(ctx context.Context) (scanner.Scan, error) {
	if !s.on.Load() {
		<-ctx.Done()
		return scanner.Scan{}, ctx.Err()
	}
	return s.Fake.ReadCode(ctx)
}

func (s keepsReading) ReadCode(ctx context.Context) (scanner.Scan, error) {
	done := make(chan struct{})
	var (
		sc  scanner.Scan
		err error
	)
	go func() {
		defer close(done)
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		sc, err = s.Fake.ReadCode(dctx)
	}()
	select {
	case <-done:
		return sc, err
	case <-ctx.Done():
		return scanner.Scan{}, ctx.Err()
	}
}

func brokenScanners() map[string]basetest.Broken[Harness] {
	// Every broken scanner embeds a *Fake, whose Read it inherits.
	trigger := func(impl scanner.Scanner, code string) { impl.(interface{ Read(string) }).Read(code) }
	wrap := func(fn func(*fake.Fake) scanner.Scanner) Harness {
		return Harness{New: func(*testing.T) scanner.Scanner { return fn(fake.NewFake()) }, Trigger: trigger}
	}
	notConnected := wrap(func(f *fake.Fake) scanner.Scanner { return f })
	notConnected.Config = map[string]string{"connected": "false"}
	return map[string]basetest.Broken[Harness]{
		"is not connected":        {Harness: notConnected, Step: "Health"},
		"cannot be enabled":       {Harness: wrap(func(f *fake.Fake) scanner.Scanner { return cannotEnable{f} }), Step: "Enable"},
		"never disables":          {Harness: wrap(func(f *fake.Fake) scanner.Scanner { return neverDisables{f} }), Step: "CodeReadWhileDisabledIsDropped"},
		"does not time its scans": {Harness: wrap(func(f *fake.Fake) scanner.Scanner { return noScanTime{f} }), Step: "ReadCodeDelivers"},
		"accepts any API":         {Harness: wrap(func(f *fake.Fake) scanner.Scanner { return anyAPIVersion{f} }), Step: "ConfigureRejectsUnknownAPIVersion"},
		"gives one code to two readers": {Harness: wrap(func(f *fake.Fake) scanner.Scanner {
			return sharesReads{Fake: f, state: new(inFlight)}
		}), Step: "OneCodeOneReader"},
		"does not enable to read":         {Harness: wrap(func(f *fake.Fake) scanner.Scanner { return noAutoEnable{f, new(atomic.Bool)} }), Step: "ReadCodeEnables"},
		"reads for a reader that gave up": {Harness: wrap(func(f *fake.Fake) scanner.Scanner { return keepsReading{f} }), Step: "NoCodeLostToAReaderThatGaveUp"},
	}
}

// TestConformanceCatchesBrokenScanners runs RunConformance on each broken
// scanner in a child process of the test binary, and checks that it fails
// at the right step.
func TestConformanceCatchesBrokenScanners(t *testing.T) {
	basetest.RunBroken(t, "a scanner", brokenScanners(), RunConformance)
}
