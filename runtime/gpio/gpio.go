package gpio

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
)

// Level is a pin's level as the configuration names it.
type Level string

// Levels.
const (
	Low  Level = "low"
	High Level = "high"
)

func (l Level) periph() (gpio.Level, error) {
	switch l {
	case Low:
		return gpio.Low, nil
	case High:
		return gpio.High, nil
	}
	return gpio.Low, fmt.Errorf("level %q: want low or high", l)
}

// Config names the pins ([gpio] in posrt.toml); an empty name has none.
type Config struct {
	// Tamper is the tamper switch's pin; TamperActive the level it reads
	// when the case is opened (a switch to ground held closed by the
	// case reads low while shut with the pull-up, high when opened).
	Tamper       string
	TamperActive Level
	// Drawer is the cash drawer's sensor; DrawerOpen the level it reads
	// while the drawer is open.
	Drawer     string
	DrawerOpen Level
	// Debounce is how long a level must hold before it counts (50ms).
	Debounce time.Duration
}

// Handlers receive what the pins report.
type Handlers struct {
	// Tamper is called once each time the tamper switch becomes active
	// (and at start when it is active already).
	Tamper func(reason string)
	// Drawer is called when the drawer opens or closes.
	Drawer func(open bool)
}

// Watcher watches the configured pins until its context ends.
type Watcher struct {
	absent []string

	mu      sync.Mutex
	drawer  *bool // nil: no drawer sensor
	changed chan struct{}
	wg      sync.WaitGroup
}

// ErrNoDrawer is WaitClosed's error on a terminal without a drawer sensor.
var ErrNoDrawer = errors.New("no cash-drawer sensor is configured")

// Start sets up the configured pins (pulled up, both edges) and watches
// them until ctx ends. A pin this machine does not have is left out and
// named by Absent; a configuration that cannot mean anything (an unknown
// level) is an error.
func Start(ctx context.Context, cfg Config, h Handlers) (*Watcher, error) {
	w := &Watcher{changed: make(chan struct{})}
	if cfg.Tamper == "" && cfg.Drawer == "" {
		return w, nil
	}
	if cfg.Debounce <= 0 {
		cfg.Debounce = 50 * time.Millisecond
	}
	if cfg.TamperActive == "" {
		cfg.TamperActive = High
	}
	if cfg.DrawerOpen == "" {
		cfg.DrawerOpen = High
	}
	tamperLevel, err := cfg.TamperActive.periph()
	if err != nil {
		return nil, fmt.Errorf("gpio tamper_active: %w", err)
	}
	drawerLevel, err := cfg.DrawerOpen.periph()
	if err != nil {
		return nil, fmt.Errorf("gpio drawer_open: %w", err)
	}
	if _, err := host.Init(); err != nil {
		w.absent = append(w.absent, fmt.Sprintf("GPIO drivers did not load: %v", err))
	}
	pin := func(role, name string) gpio.PinIO {
		if name == "" {
			return nil
		}
		p := gpioreg.ByName(name)
		if p == nil {
			w.absent = append(w.absent, fmt.Sprintf("%s pin %s: this machine has no such GPIO", role, name))
			return nil
		}
		if err := p.In(gpio.PullUp, gpio.BothEdges); err != nil {
			w.absent = append(w.absent, fmt.Sprintf("%s pin %s: %v", role, name, err))
			return nil
		}
		return p
	}
	if p := pin("tamper", cfg.Tamper); p != nil {
		w.watch(ctx, p, cfg.Debounce, func(l gpio.Level) {
			if l == tamperLevel && h.Tamper != nil {
				h.Tamper(fmt.Sprintf("tamper switch %s opened", cfg.Tamper))
			}
		})
	}
	if p := pin("drawer", cfg.Drawer); p != nil {
		open := p.Read() == drawerLevel
		w.drawer = &open
		w.watch(ctx, p, cfg.Debounce, func(l gpio.Level) {
			open := l == drawerLevel
			w.mu.Lock()
			*w.drawer = open
			close(w.changed)
			w.changed = make(chan struct{})
			w.mu.Unlock()
			if h.Drawer != nil {
				h.Drawer(open)
			}
		})
	}
	return w, nil
}

// watch reports p's level to fn at start and each time a new level has
// held for debounce.
func (w *Watcher) watch(ctx context.Context, p gpio.PinIO, debounce time.Duration, fn func(gpio.Level)) {
	last := p.Read()
	fn(last)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for ctx.Err() == nil {
			if !p.WaitForEdge(100 * time.Millisecond) {
				continue
			}
			// A bounce settles within debounce: the level then is the one
			// (the edges of the bounce are passed over).
			select {
			case <-ctx.Done():
				return
			case <-time.After(debounce):
			}
			for p.WaitForEdge(time.Millisecond) {
			}
			if l := p.Read(); l != last {
				last = l
				fn(l)
			}
		}
	}()
}

// Wait waits until every pin's watch has stopped (its context ended).
func (w *Watcher) Wait() { w.wg.Wait() }

// Absent names the configured pins this machine does not have.
func (w *Watcher) Absent() []string { return append([]string(nil), w.absent...) }

// Drawer reports whether the drawer is open, and whether a sensor says so.
func (w *Watcher) Drawer() (open, known bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.drawer == nil {
		return false, false
	}
	return *w.drawer, true
}

// WaitClosed waits until the drawer is closed (at once when it is).
func (w *Watcher) WaitClosed(ctx context.Context) error {
	for {
		w.mu.Lock()
		if w.drawer == nil {
			w.mu.Unlock()
			return ErrNoDrawer
		}
		open, changed := *w.drawer, w.changed
		w.mu.Unlock()
		if !open {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}
