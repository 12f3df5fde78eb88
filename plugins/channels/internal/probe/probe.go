package probe

import (
	"context"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/base"
)

// DefaultEvery is how long a probe's answer stands unless configured
// otherwise: a host is asked at most once a minute, as an idle terminal
// echoes.
const DefaultEvery = time.Minute

// Cache is the last probe of a host. The zero Cache probes at every call
// until Reset gives it an interval. It is safe for concurrent use.
type Cache struct {
	mu    sync.Mutex
	every time.Duration
	h     base.Health
	at    time.Time // zero: no probe stands
	Now   func() time.Time
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
		c.mu.Unlock()
	}
	return h
}
