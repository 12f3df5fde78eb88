package base

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// watch runs m.Watch in the background and returns its events as they
// come, and a stop that ends it.
func watch(t *testing.T, m *Monitor) (<-chan Event, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan Event, 2*MaxQueuedEvents)
	done := make(chan error, 1)
	go func() { done <- m.Watch(ctx, func(e Event) error { events <- e; return nil }) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch after its context ended = %v, want nil", err)
		}
	}
	t.Cleanup(cancel)
	return events, stop
}

func next(t *testing.T, events <-chan Event) Event {
	t.Helper()
	select {
	case e := <-events:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	return Event{}
}

func TestMonitorStreamsChangesAndErrors(t *testing.T) {
	var m Monitor
	if h := m.Current(); h.State != StateOffline || h.Detail != "not configured" {
		t.Errorf("zero Monitor says %+v, want offline, not configured", h)
	}
	m.Set(Health{State: StateIdle})
	events, stop := watch(t, &m)
	if e := next(t, events); e.Type != EventStatus || e.Health.State != StateIdle || e.At.IsZero() {
		t.Errorf("first event %+v, want the state then", e)
	}
	m.Set(Health{State: StateIdle}) // no change: no event
	m.Set(Health{State: StateError, Conditions: []string{"paper_out", "cover_open"}})
	e := next(t, events)
	if e.Type != EventStatus || e.Health.State != StateError || !slices.Equal(e.Health.Conditions, []string{"cover_open", "paper_out"}) {
		t.Errorf("event %+v, want the error state with its conditions sorted", e)
	}
	m.Report("paper out", "the roll ran out")
	if e := next(t, events); e.Type != EventError || e.ErrorCode != "paper out" || e.ErrorMessage != "the roll ran out" || e.Health.State != StateError {
		t.Errorf("event %+v, want the error with the state", e)
	}
	m.Set(Health{State: StateError, Conditions: []string{"cover_open", "paper_out"}}) // same, other order
	m.Set(Health{State: StateIdle})
	if e := next(t, events); e.Health.State != StateIdle {
		t.Errorf("event %+v, want idle (a repeated state is no event)", e)
	}
	stop()
	if h, _ := m.Health(context.Background()); h.State != StateIdle {
		t.Errorf("Health = %+v, want idle", h)
	}
}

// A watcher that does not take its events never holds up the device; it
// loses the oldest status events first, never the newest state.
func TestMonitorBoundsAWatchersQueue(t *testing.T) {
	var m Monitor
	m.Set(Health{State: StateIdle})
	stuck := make(chan struct{})
	got := make(chan []Event, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		var seen []Event
		_ = m.Watch(ctx, func(e Event) error {
			if len(seen) == 0 {
				seen = append(seen, e)
				<-stuck // the host is slow
				return nil
			}
			seen = append(seen, e)
			if e.Health.Detail == "last" {
				got <- seen
			}
			return nil
		})
	}()
	time.Sleep(50 * time.Millisecond)
	m.Report("jam", "first error")
	for i := range 3 * MaxQueuedEvents {
		m.Set(Health{State: StateBusy, Detail: time.Duration(i).String()})
	}
	m.Set(Health{State: StateIdle, Detail: "last"})
	close(stuck)
	var seen []Event
	select {
	case seen = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the last state never came")
	}
	if n := len(seen) - 1; n > MaxQueuedEvents {
		t.Errorf("%d events queued, want at most %d", n, MaxQueuedEvents)
	}
	if !slices.ContainsFunc(seen, func(e Event) bool { return e.Type == EventError }) {
		t.Error("the error event was dropped before status events")
	}
}

func TestWatchEndsWhenSendFails(t *testing.T) {
	var m Monitor
	broken := errors.New("stream broken")
	if err := m.Watch(context.Background(), func(Event) error { return broken }); !errors.Is(err, broken) {
		t.Errorf("Watch = %v, want the send's error", err)
	}
}

type probed struct{ h chan Health }

func (p probed) Info(context.Context) (Info, error)                         { return Info{}, nil }
func (p probed) Configure(context.Context, string, map[string]string) error { return nil }
func (p probed) Health(context.Context) (Health, error)                     { return <-p.h, nil }

// A plugin that is not a Watcher is probed in its own process: each
// change it answers is one event.
func TestProbeSendsChanges(t *testing.T) {
	p := probed{h: make(chan Health)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan Event, 8)
	go func() { _ = probe(ctx, p, time.Millisecond, func(e Event) error { events <- e; return nil }) }()
	for _, h := range []Health{{State: StateIdle}, {State: StateIdle}, {State: StateOffline, Detail: "unplugged"}, {State: StateOffline, Detail: "unplugged"}, {State: StateIdle}} {
		p.h <- h
	}
	for _, want := range []string{StateIdle, StateOffline, StateIdle} {
		if e := next(t, events); e.Health.State != want {
			t.Errorf("event %+v, want %s", e, want)
		}
	}
	select {
	case e := <-events:
		t.Errorf("extra event %+v: a repeated Health is no change", e)
	default:
	}
}
