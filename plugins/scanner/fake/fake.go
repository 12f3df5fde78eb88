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
	"github.com/posrt/posrt/plugins/scanner/internal/queue"
)

// MaxPending is how many codes read while enabled, with no ReadCode
// waiting, the Fake keeps for the next ReadCode; older ones are dropped.
const MaxPending = queue.MaxPending

// Fake is an in-memory scanner whose behaviour is set by configuration keys
// (see plugins/scanner/README.md). NewFake returns it connected and
// disabled with the default configuration: no codes of its own, symbology
// qr. It is safe for concurrent use.
type Fake struct {
	// faults injects latency and crashes; tests in this package replace
	// faults.Exit.
	faults faults.Faults
	now    func() time.Time

	// q holds the decoder state, the codes kept and the readers waiting;
	// f.mu is taken before it, never after.
	q queue.Queue

	mon     base.Monitor
	mu      sync.Mutex
	cfg     config
	queue   []string      // configured codes not read yet
	feeding chan struct{} // closed to stop the feeder; nil when none runs
}

var _ scanner.Scanner = (*Fake)(nil)

type config struct {
	codes     []string
	interval  time.Duration
	symbology scanner.Symbology
	connected bool
}

func defaultConfig() config {
	return config{interval: 200 * time.Millisecond, symbology: "qr", connected: true}
}

// NewFake returns a connected, disabled fake scanner with the default
// configuration. It does no I/O and starts no goroutine.
func NewFake() *Fake {
	f := &Fake{now: time.Now, cfg: defaultConfig()}
	f.mon.Set(f.healthLocked())
	return f
}

// fakeInfo is what the Fake's Info reports.
func fakeInfo() base.Info {
	return base.Info{Kind: base.KindScanner, Name: "fake-scanner", Version: "0.2.0", APIVersions: scanner.APIVersions}
}

// Info implements base.Base.
func (f *Fake) Info(context.Context) (base.Info, error) { return fakeInfo(), nil }

// Configure implements base.Base. It checks every key before it changes
// anything, so a rejected configuration leaves the Fake as it was. A
// configuration accepted disables the scanner and queues its codes afresh;
// ReadCode calls waiting keep waiting.
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
	f.mon.Set(f.healthLocked())
	return nil
}

// Health implements base.Base: idle, or offline when configured as not
// connected.
func (f *Fake) Health(context.Context) (base.Health, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.healthLocked(), nil
}

// Watch implements base.Watcher: the state at once and at each Configure
// that changes it.
func (f *Fake) Watch(ctx context.Context, send func(base.Event) error) error {
	return f.mon.Watch(ctx, send)
}

func (f *Fake) healthLocked() base.Health {
	if !f.cfg.connected {
		return base.Health{State: base.StateOffline, Detail: scanner.ErrNotConnected.Error()}
	}
	return base.Health{State: base.StateIdle}
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
	f.enableLocked()
	return nil
}

func (f *Fake) enableLocked() {
	if !f.q.Enable() {
		return
	}
	if len(f.queue) > 0 {
		stop := make(chan struct{})
		f.feeding = stop
		go f.feed(stop, f.cfg.interval)
	}
}

// Disable implements scanner.Scanner. It drops the codes nobody received
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
	f.q.Disable()
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

// Read makes the Fake read code as if it had been scanned: the longest
// waiting ReadCode gets it, or the next one if none waits. While the
// scanner is disabled it is dropped.
func (f *Fake) Read(code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.readLocked(code)
}

func (f *Fake) readLocked(code string) {
	f.q.Put(scanner.Scan{Code: code, Symbology: f.cfg.symbology, At: f.now()})
}

// ReadCode implements scanner.Scanner. It enables the scanner if it is
// disabled, takes the oldest code pending or waits its turn for the next
// one read, and returns ctx's error when ctx ends first. A code handed to
// it just as ctx ended goes back to the front, for the next reader.
func (f *Fake) ReadCode(ctx context.Context) (scanner.Scan, error) {
	if err := f.begin(ctx); err != nil {
		return scanner.Scan{}, err
	}
	f.enableLocked()
	f.mu.Unlock()
	return f.q.Take(ctx)
}

// queued returns how many configured codes are still to be read; tests
// use it.
func (f *Fake) queued() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queue)
}

// readers returns how many ReadCode calls wait; tests use it.
func (f *Fake) readers() int { return f.q.Waiting() }

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
			c.symbology = scanner.Symbology(k.Value)
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
