package fake

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/internal/faults"
	"github.com/posrt/posrt/plugins/scanner"
)

// MaxBacklog is how many scans read while enabled the Fake keeps for a
// subscriber still to come; older ones are dropped.
const MaxBacklog = 16

// Fake is an in-memory scanner whose behaviour is set by configuration keys
// (see plugins/scanner/README.md). NewFake returns it connected and
// disabled with the default configuration: no codes of its own, symbology
// qr. It is safe for concurrent use.
type Fake struct {
	// faults injects latency and crashes; tests in this package replace
	// faults.Exit.
	faults faults.Faults
	now    func() time.Time

	mu      sync.Mutex
	cfg     config
	enabled bool
	queue   []string      // configured codes not read yet
	feeding chan struct{} // closed to stop the feeder; nil when none runs
	backlog []scanner.Scan
	subs    map[*subscriber]struct{}
}

var _ scanner.Scanner = (*Fake)(nil)

type subscriber struct {
	pending []scanner.Scan // guarded by Fake.mu
	wake    chan struct{}  // capacity 1
}

func (s *subscriber) push(sc ...scanner.Scan) {
	s.pending = append(s.pending, sc...)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

type config struct {
	codes     []string
	interval  time.Duration
	symbology string
	connected bool
}

func defaultConfig() config {
	return config{interval: 200 * time.Millisecond, symbology: "qr", connected: true}
}

// NewFake returns a connected, disabled fake scanner with the default
// configuration. It does no I/O and starts no goroutine.
func NewFake() *Fake {
	return &Fake{now: time.Now, cfg: defaultConfig(), subs: map[*subscriber]struct{}{}}
}

// fakeInfo is what the Fake's Info reports.
func fakeInfo() base.Info {
	return base.Info{Kind: base.KindScanner, Name: "fake-scanner", Version: "0.1.0", APIVersions: scanner.APIVersions}
}

// Info implements base.Base.
func (f *Fake) Info(context.Context) (base.Info, error) { return fakeInfo(), nil }

// Configure implements base.Base. It checks every key before it changes
// anything, so a rejected configuration leaves the Fake as it was. A
// configuration accepted disables the scanner and queues its codes afresh;
// Scans subscribers stay subscribed.
func (f *Fake) Configure(_ context.Context, apiVersion string, config map[string]string) error {
	cfg, fs, err := faults.Prepare(fakeInfo(), apiVersion, config, parseConfig)
	if err != nil {
		return err
	}
	f.faults.Set(fs)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.disableLocked()
	f.cfg, f.queue = cfg, slices.Clone(cfg.codes)
	return nil
}

// Health implements base.Base: idle, or offline when configured as not
// connected.
func (f *Fake) Health(context.Context) (base.Health, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.cfg.connected {
		return base.Health{State: base.StateOffline, Detail: scanner.ErrNotConnected.Error()}, nil
	}
	return base.Health{State: base.StateIdle}, nil
}

// begin starts a device call: it injects the configured faults and fails
// when the scanner is not connected. On success f.mu is held.
func (f *Fake) begin(ctx context.Context) error {
	if err := f.faults.Call(ctx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	if !f.cfg.connected {
		f.mu.Unlock()
		return scanner.ErrNotConnected
	}
	return nil
}

// Enable implements scanner.Scanner. The configured codes not read yet are
// read one per interval from now on.
func (f *Fake) Enable(ctx context.Context) error {
	if err := f.begin(ctx); err != nil {
		return err
	}
	defer f.mu.Unlock()
	if f.enabled {
		return nil
	}
	f.enabled = true
	if len(f.queue) > 0 {
		stop := make(chan struct{})
		f.feeding = stop
		go f.feed(stop, f.cfg.interval)
	}
	return nil
}

// Disable implements scanner.Scanner. It drops the scans nobody received
// and pauses the configured codes.
func (f *Fake) Disable(ctx context.Context) error {
	if err := f.begin(ctx); err != nil {
		return err
	}
	defer f.mu.Unlock()
	f.disableLocked()
	return nil
}

func (f *Fake) disableLocked() {
	f.enabled = false
	f.backlog = nil
	if f.feeding != nil {
		close(f.feeding)
		f.feeding = nil
	}
}

// feed reads a configured code every interval until the queue is empty or
// stop is closed.
func (f *Fake) feed(stop chan struct{}, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		f.mu.Lock()
		select {
		case <-stop: // disabled while we waited for the lock
			f.mu.Unlock()
			return
		default:
		}
		code := f.queue[0]
		f.queue = f.queue[1:]
		f.readLocked(code)
		done := len(f.queue) == 0
		if done {
			f.feeding = nil
		}
		f.mu.Unlock()
		if done {
			return
		}
	}
}

// Read makes the Fake read code as if it had been scanned: every Scans
// subscriber receives it if the scanner is enabled; otherwise it is
// dropped.
func (f *Fake) Read(code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.readLocked(code)
}

func (f *Fake) readLocked(code string) {
	if !f.enabled {
		return
	}
	sc := scanner.Scan{Code: code, Symbology: f.cfg.symbology, At: f.now()}
	if len(f.subs) == 0 {
		f.backlog = append(f.backlog, sc)
		if n := len(f.backlog); n > MaxBacklog {
			f.backlog = slices.Delete(f.backlog, 0, n-MaxBacklog)
		}
		return
	}
	for s := range f.subs {
		s.push(sc)
	}
}

// Scans implements scanner.Scanner. It calls each for every scan read from
// now on (and for the backlog, if it is the first subscriber) until ctx is
// done, when it returns ctx's error, or each fails, when it returns each's
// error.
func (f *Fake) Scans(ctx context.Context, each func(scanner.Scan) error) error {
	if err := f.begin(ctx); err != nil {
		return err
	}
	s := &subscriber{wake: make(chan struct{}, 1)}
	if len(f.backlog) > 0 {
		s.push(f.backlog...)
		f.backlog = nil
	}
	f.subs[s] = struct{}{}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.subs, s)
		f.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.wake:
		}
		f.mu.Lock()
		batch := s.pending
		s.pending = nil
		f.mu.Unlock()
		for _, sc := range batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := each(sc); err != nil {
				return err
			}
		}
	}
}

// queued returns how many configured codes are still to be read; tests
// use it.
func (f *Fake) queued() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queue)
}

// subscribers returns how many Scans calls are running; tests use it.
func (f *Fake) subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

func parseConfig(m map[string]string) (config, error) {
	c := defaultConfig()
	keys := []string{"codes", "interval", "symbology", "connected", "latency", "crash_after"} // the last two read by faults.Parse
	err := base.EachConfigKey(m, "fake-scanner", keys, func(k base.ConfigKey) error {
		if k.Value == "" {
			return nil // the default
		}
		var err error
		switch k.Name {
		case "codes":
			c.codes = nil
			for _, code := range strings.Split(k.Value, ",") {
				if code = strings.TrimSpace(code); code != "" {
					c.codes = append(c.codes, code)
				}
			}
		case "interval":
			d, err := time.ParseDuration(k.Value)
			if err != nil || d <= 0 {
				return k.Bad("a positive duration such as 200ms")
			}
			c.interval = d
		case "symbology":
			if strings.Trim(k.Value, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
				return k.Bad("a symbology name such as qr, code128 or ean13")
			}
			c.symbology = k.Value
		case "connected":
			c.connected, err = k.Bool()
		}
		return err
	})
	if err != nil {
		return config{}, err
	}
	return c, nil
}
