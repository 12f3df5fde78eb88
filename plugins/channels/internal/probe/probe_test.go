package probe

import (
	"context"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
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
