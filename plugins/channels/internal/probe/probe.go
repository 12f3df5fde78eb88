package probe

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
)

// DefaultEvery is how long a probe's answer stands unless configured
// otherwise: a host is asked at most once a minute, as an idle terminal
// echoes.
const DefaultEvery = time.Minute

// Cache is the last probe of a host, and the channel's state as posrt
// watches it (see Watch). The zero Cache probes at every call until Reset
// gives it an interval. It is safe for concurrent use.
type Cache struct {
	mu    sync.Mutex
	every time.Duration
	h     base.Health
	at    time.Time // zero: no probe stands
	Now   func() time.Time
	state base.Monitor // every probe's and call's finding, for watchers
}

// Reset forgets the last probe and makes each later one stand for every:
// a plugin calls it at each Configure, and when the host's state changed
// by other means (a sign-in).
func (c *Cache) Reset(every time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.every, c.at = every, time.Time{}
}

// Forget forgets the last probe, keeping the interval.
func (c *Cache) Forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = time.Time{}
}

// Health returns the last probe's answer while it stands, else calls
// probe and keeps its answer (unless ctx ended meanwhile).
func (c *Cache) Health(ctx context.Context, probe func(context.Context) base.Health) base.Health {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	c.mu.Lock()
	if !c.at.IsZero() && now().Sub(c.at) < c.every {
		h := c.h
		c.mu.Unlock()
		return h
	}
	c.mu.Unlock()
	h := probe(ctx)
	if ctx.Err() == nil {
		c.mu.Lock()
		c.h, c.at = h, now()
		c.state.Set(h)
		c.mu.Unlock()
	}
	return h
}

// Watch implements base.Watcher for a channel whose Health is
// Health(ctx, probe): a status event of the host's state at once (probed
// if no probe stands), one at every change a probe or a call finds, and an
// error event for every call that finds the host gone or its answer
// untrustworthy (its code the class's sentinel text, its message the
// call's error less the class's text when it begins with it). While
// watched, the host is probed whenever the last probe no longer stands, so
// that the stream follows a host coming back without any call.
func (c *Cache) Watch(ctx context.Context, send func(base.Event) error, probe func(context.Context) base.Health) error {
	c.Health(ctx, probe)
	go func() {
		t := time.NewTicker(base.ProbeInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.Health(ctx, probe)
			}
		}
	}()
	return c.state.Watch(ctx, send)
}

// Observe records what a call to the host just showed, err being the
// error of the exchange itself. Every call a channel makes to its host
// tells something of it: a call that finds the host gone or answering
// what cannot be trusted stands as the last probe for the interval (the
// channel's state turns offline or error at once, without waiting for the
// next probe); a call the host answered, after such a finding, forgets it,
// so that the next Health probes the host afresh (an answer alone does not
// say the host accepts this terminal: it may be a refusal of its
// signature). A refusal by the channel itself (channels.ErrBadRequest,
// channels.ErrNotSignedIn) says nothing of the host and is not kept. A nil
// Cache keeps nothing.
func (c *Cache) Observe(err error) {
	if c == nil || errors.Is(err, channels.ErrBadRequest) || errors.Is(err, channels.ErrNotSignedIn) {
		return
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		if c.h.State != base.StateIdle {
			c.at = time.Time{}
		}
		return
	}
	c.h, c.at = Outcome(err), now()
	c.state.Set(c.h)
	code := errorCode(err)
	c.state.Report(code, strings.TrimPrefix(err.Error(), code+": "))
}

// errorCode names the class of a failed call in the channel contract's
// words: the text of the sentinel it is a kind of.
func errorCode(err error) string {
	for _, s := range []error{channels.ErrHostRejected, channels.ErrNotSent, channels.ErrBadMAC, channels.ErrNoAnswer} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "call failed"
}

// Outcome is the host's state as the outcome of one call to it shows it:
// answered (err nil) is idle; no connection made (channels.ErrNotSent) is
// offline; anything else (no answer, or one that cannot be trusted) is an
// error, the detail saying which.
func Outcome(err error) base.Health {
	switch {
	case err == nil:
		return base.Health{State: base.StateIdle}
	case errors.Is(err, channels.ErrNotSent):
		return base.Health{State: base.StateOffline, Detail: err.Error()}
	}
	return base.Health{State: base.StateError, Detail: err.Error()}
}
