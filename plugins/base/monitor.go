package base

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Monitor keeps a device's health as its plugin sees it and hands every
// change and every error to the plugin's watchers: a plugin embeds one,
// calls Set whenever the device's state or conditions change and Report
// when the device reports an error, and so has Health and Watch. The zero
// Monitor is ready and says offline, "not configured", until the first
// Set. It is safe for concurrent use; Set and Report never wait for a
// watcher.
type Monitor struct {
	mu       sync.Mutex
	h        Health
	set      bool
	watchers map[*watcher]struct{}
	now      func() time.Time // nil: time.Now
}

// watcher is one Watch call's queue of events not yet sent.
type watcher struct {
	events []Event
	wake   chan struct{} // capacity 1
}

// MaxQueuedEvents is how many events a Monitor keeps for a watcher that
// has not taken them; past it the oldest status event is dropped (a later
// one says the state), and an error event only when no status event is
// left to drop.
const MaxQueuedEvents = 64

// notConfigured is a Monitor's health before its first Set.
var notConfigured = Health{State: StateOffline, Detail: "not configured"}

// Set records h as the device's health and, when it differs from what was
// recorded, sends a status event to every watcher. The conditions are
// kept sorted.
func (m *Monitor) Set(h Health) {
	h = h.normalized()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.set && m.h.Equal(h) {
		return
	}
	m.h, m.set = h, true
	m.publishLocked(Event{Type: EventStatus, Health: h, At: m.clock()})
}

// Report sends an error event to every watcher: code is the error in the
// kind's words (a sentinel's text), message the device's own. The health
// it carries is the one recorded; a plugin whose state the error changes
// calls Set first.
func (m *Monitor) Report(code, message string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.publishLocked(Event{Type: EventError, Health: m.currentLocked(), ErrorCode: code, ErrorMessage: message, At: m.clock()})
}

// Current returns the health recorded.
func (m *Monitor) Current() Health {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.currentLocked()
}

// Health implements Base with the health recorded; it never touches the
// device, so it answers at once however busy the device is.
func (m *Monitor) Health(context.Context) (Health, error) { return m.Current(), nil }

// Watch implements Watcher.
func (m *Monitor) Watch(ctx context.Context, send func(Event) error) error {
	w := &watcher{wake: make(chan struct{}, 1)}
	m.mu.Lock()
	w.events = []Event{{Type: EventStatus, Health: m.currentLocked(), At: m.clock()}}
	if m.watchers == nil {
		m.watchers = map[*watcher]struct{}{}
	}
	m.watchers[w] = struct{}{}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.watchers, w)
		m.mu.Unlock()
	}()
	for {
		m.mu.Lock()
		events := w.events
		w.events = nil
		m.mu.Unlock()
		for _, e := range events {
			if err := send(e); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-w.wake:
		}
	}
}

func (m *Monitor) currentLocked() Health {
	if !m.set {
		return notConfigured
	}
	h := m.h
	h.Conditions = slices.Clone(h.Conditions)
	return h
}

func (m *Monitor) clock() time.Time {
	if m.now != nil {
		return m.now()
	}
	return time.Now()
}

func (m *Monitor) publishLocked(e Event) {
	for w := range m.watchers {
		w.events = append(w.events, e)
		if len(w.events) > MaxQueuedEvents {
			i := slices.IndexFunc(w.events, func(q Event) bool { return q.Type == EventStatus })
			if i < 0 {
				i = 0
			}
			w.events = slices.Delete(w.events, i, i+1)
		}
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// ProbeInterval is how often the base service asks a plugin that is not a
// Watcher for its Health, in the plugin's own process, to stream the
// changes it sees.
const ProbeInterval = 5 * time.Second

// probe is Watch for a plugin that is not a Watcher: a status event of its
// Health at once and at every change seen every interval. A Health that
// fails is a status event of state error with the failure.
func probe(ctx context.Context, impl Base, interval time.Duration, send func(Event) error) error {
	var last Health
	first := true
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		h, err := impl.Health(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			h = Health{State: StateError, Detail: "health check failed: " + err.Error()}
		}
		h = h.normalized()
		if first || !h.Equal(last) {
			if err := send(Event{Type: EventStatus, Health: h, At: time.Now()}); err != nil {
				return err
			}
			first, last = false, h
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// normalized is h with its conditions sorted, nil when there are none.
func (h Health) normalized() Health {
	if len(h.Conditions) == 0 {
		h.Conditions = nil
		return h
	}
	h.Conditions = slices.Sorted(slices.Values(h.Conditions))
	return h
}
