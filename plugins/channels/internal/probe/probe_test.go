package probe

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/channels"
)

func TestAProbeStandsForItsInterval(t *testing.T) {
	clock := time.Unix(1_700_000_000, 0)
	c := &Cache{Now: func() time.Time { return clock }}
	probes := 0
	probe := func(context.Context) base.Health {
		probes++
		return base.Health{State: base.StateIdle, Detail: "probe"}
	}
	c.Health(context.Background(), probe)
	c.Health(context.Background(), probe)
	if probes != 2 {
		t.Errorf("%d probes before any interval was set, want one a call", probes)
	}
	c.Reset(time.Minute)
	for range 5 {
		if h := c.Health(context.Background(), probe); h.Detail != "probe" {
			t.Fatalf("Health = %+v", h)
		}
	}
	if probes != 3 {
		t.Errorf("%d probes, want one more for five calls within the minute", probes)
	}
	clock = clock.Add(time.Minute)
	c.Health(context.Background(), probe)
	c.Forget()
	c.Health(context.Background(), probe)
	if probes != 5 {
		t.Errorf("%d probes, want one when the minute passed and one after Forget", probes)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.Forget()
	c.Health(ctx, func(context.Context) base.Health { cancel(); return base.Health{State: base.StateOffline} })
	if h := c.Health(context.Background(), probe); h.State != base.StateIdle || probes != 6 {
		t.Errorf("a probe cut short by its context was kept: %+v", h)
	}
}

// A call that finds the host gone or untrustworthy is the last probe: it
// stands for the interval like one; a call the host answered after it
// makes the next Health probe afresh; the channel's own refusals say
// nothing of the host.
func TestACallsOutcomeIsTheLastProbe(t *testing.T) {
	clock := time.Unix(1_700_000_000, 0)
	c := &Cache{Now: func() time.Time { return clock }}
	c.Reset(time.Minute)
	probes := 0
	probe := func(context.Context) base.Health {
		probes++
		return base.Health{State: base.StateIdle, Detail: "probe"}
	}
	for i, step := range []struct {
		err    error
		want   string
		probes int // probes so far
	}{
		{fmt.Errorf("%w: connecting to the gateway: connection refused", channels.ErrNotSent), base.StateOffline, 0},
		{channels.ErrBadRequest, base.StateOffline, 0},  // kept from before
		{channels.ErrNotSignedIn, base.StateOffline, 0}, // kept from before
		{nil, base.StateIdle, 1}, // forgotten: probed afresh
		{nil, base.StateIdle, 1}, // the probe's idle stands
		{fmt.Errorf("%w: pay: context deadline exceeded", channels.ErrNoAnswer), base.StateError, 1},
		{fmt.Errorf("checking the answer's MAC: %w", channels.ErrBadMAC), base.StateError, 1},
		{nil, base.StateIdle, 2},
	} {
		c.Observe(step.err)
		h := c.Health(context.Background(), probe)
		if h.State != step.want || probes != step.probes {
			t.Errorf("step %d, after a call ending %v: Health = %+v after %d probes, want %s after %d", i, step.err, h, probes, step.want, step.probes)
		}
		if step.want != base.StateIdle && h.Detail == "" {
			t.Errorf("after a call ending %v: Health = %+v, without a detail saying why", step.err, h)
		}
	}
	c.Observe(channels.ErrNoAnswer)
	clock = clock.Add(time.Minute)
	if h := c.Health(context.Background(), probe); h.Detail != "probe" || probes != 3 {
		t.Errorf("a call's outcome outlived the interval: %+v after %d probes", h, probes)
	}
	var none *Cache
	none.Observe(nil) // a channel not configured keeps nothing, and does not panic
}

// Watch opens with the host's state (probing when no probe stands), then
// streams what calls and probes find: a status and an error event for a
// failed call, idle again once the host is probed afresh after an answered
// call.
func TestWatchStreamsWhatCallsAndProbesFind(t *testing.T) {
	c := &Cache{}
	c.Reset(time.Hour)
	var probes atomic.Int64 // the watch's own ticker may probe too
	probe := func(context.Context) base.Health { probes.Add(1); return base.Health{State: base.StateIdle} }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan base.Event, 16)
	go func() { _ = c.Watch(ctx, func(e base.Event) error { events <- e; return nil }, probe) }()
	next := func() base.Event { t.Helper(); return basetest.NextEvent(t, events) }
	if e := next(); e.Type != base.EventStatus || e.Health.State != base.StateIdle || probes.Load() != 1 {
		t.Fatalf("first event %+v after %d probes, want status idle after one", e, probes.Load())
	}
	c.Observe(fmt.Errorf("pay: %w", channels.ErrNoAnswer))
	if e := next(); e.Type != base.EventStatus || e.Health.State != base.StateError {
		t.Errorf("after a call without an answer: %+v, want status error", e)
	}
	if e := next(); e.Type != base.EventError || e.ErrorCode != channels.ErrNoAnswer.Error() || e.ErrorMessage != "pay: no answer from host" {
		t.Errorf("after a call without an answer: %+v, want an error event of class %q with the call's error", e, channels.ErrNoAnswer)
	}
	c.Observe(fmt.Errorf("%w: connecting to the gateway: connection refused", channels.ErrNotSent))
	if e := next(); e.Type != base.EventStatus || e.Health.State != base.StateOffline {
		t.Errorf("after a call that could not connect: %+v, want status offline", e)
	}
	if e := next(); e.Type != base.EventError || e.ErrorCode != channels.ErrNotSent.Error() || e.ErrorMessage != "connecting to the gateway: connection refused" {
		t.Errorf("after a call that could not connect: %+v, want an error event of class %q, the message not saying it again", e, channels.ErrNotSent)
	}
	c.Observe(nil)
	c.Health(ctx, probe) // the supervisor's liveness check
	if e := next(); e.Type != base.EventStatus || e.Health.State != base.StateIdle || probes.Load() != 2 {
		t.Errorf("after an answered call and a Health: %+v after %d probes, want status idle after a second probe", e, probes.Load())
	}
}
