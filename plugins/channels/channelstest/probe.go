package channelstest

import (
	"context"
	"testing"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
)

// CheckHealthStands checks that a channel plugin's Health answers from its
// last probe of the host while the probe stands: cached and fresh are the
// same plugin configured for the same host, cached with the default probe
// interval, fresh probing at every call (probe_every or echo_every 1ns).
// Both see the host up; once stopHost has stopped it, cached still says
// idle (no request reached the host) and fresh says the host is gone.
// Then call, a request to the host through cached, must fail, and its
// outcome stands as cached's last probe: Health says offline at once.
func CheckHealthStands(t *testing.T, cached, fresh base.Base, stopHost func(), call func(base.Base) error) {
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
	if err := call(cached); err == nil {
		t.Fatal("a call with the host stopped succeeded")
	}
	if h, err := cached.Health(ctx); err != nil || h.State != base.StateOffline {
		t.Errorf("Health after a call found the host stopped = %+v, %v; want offline at once, the call being a probe", h, err)
	}
}

// QueryAnOrder is a call for CheckHealthStands of a wallet: a query of an
// order no terminal made.
func QueryAnOrder(p base.Base) error {
	_, err := p.(channels.Wallet).Query(context.Background(), channels.OrderRequest{Key: channels.Key{TID: "12345678", MID: "123456789012345", Batch: "000001", Trace: "000001"}, OrderNo: "POSRTPROBE0001"})
	return err
}
