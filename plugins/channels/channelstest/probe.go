package channelstest

import (
	"context"
	"testing"

	"github.com/posrt/posrt/plugins/base"
)

// CheckHealthStands checks that a channel plugin's Health answers from its
// last probe of the host while the probe stands: cached and fresh are the
// same plugin configured for the same host, cached with the default probe
// interval, fresh probing at every call (probe_every or echo_every 1ns).
// Both see the host up; once stopHost has stopped it, cached still says
// idle (no request reached the host) and fresh says the host is gone.
func CheckHealthStands(t *testing.T, cached, fresh base.Base, stopHost func()) {
	t.Helper()
	ctx := context.Background()
	for name, p := range map[string]base.Base{"cached": cached, "fresh": fresh} {
		if h, err := p.Health(ctx); err != nil || h.State != base.StateIdle {
			t.Fatalf("%s: Health with the host up = %+v, %v; want idle", name, h, err)
		}
	}
	stopHost()
	if h, err := cached.Health(ctx); err != nil || h.State != base.StateIdle {
		t.Errorf("Health within the probe's interval = %+v, %v; want the last probe's idle, the host not asked", h, err)
	}
	if h, err := fresh.Health(ctx); err != nil || h.State == base.StateIdle {
		t.Errorf("Health probing at every call with the host stopped = %+v, %v; want it not idle", h, err)
	}
}
