package channelstest

import (
	"context"
	"strings"
	"testing"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/channels"
)

// CheckHealthStands checks that a channel plugin's Health answers from its
// last probe of the host while the probe stands: cached and fresh are the
// same plugin configured for the same host, cached with the default probe
// interval, fresh probing at every call (probe_every or echo_every 1ns).
// Both see the host up; once stopHost has stopped it, cached still says
// idle (no request reached the host) and fresh says the host is gone.
// Then call, a request to the host through cached, must fail, and its
// outcome stands as cached's last probe: Health says offline at once, and
// cached's Watch stream, opened while the host was up, says idle, then
// offline with an error event of class "request not sent" (or a kind of
// it) carrying the call's error.
func CheckHealthStands(t *testing.T, cached, fresh base.Base, stopHost func(), call func(base.Base) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, ok := cached.(base.Watcher)
	if !ok {
		t.Fatalf("%T is not a base.Watcher", cached)
	}
	events := make(chan base.Event, 64)
	go func() {
		_ = w.Watch(ctx, func(e base.Event) error { events <- e; return nil })
	}()
	if e := basetest.NextEvent(t, events); e.Type != base.EventStatus || e.Health.State != base.StateIdle {
		t.Fatalf("the first event of the watch with the host up = %+v, want status idle", e)
	}
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
	callErr := call(cached)
	if callErr == nil {
		t.Fatal("a call with the host stopped succeeded")
	}
	if h, err := cached.Health(ctx); err != nil || h.State != base.StateOffline {
		t.Errorf("Health after a call found the host stopped = %+v, %v; want offline at once, the call being a probe", h, err)
	}
	if e := basetest.NextEvent(t, events); e.Type != base.EventStatus || e.Health.State != base.StateOffline {
		t.Errorf("the event after the call = %+v, want status offline", e)
	}
	e := basetest.NextEvent(t, events)
	notSent := e.ErrorCode == channels.ErrNotSent.Error() || e.ErrorCode == channels.ErrHostRejected.Error()
	if e.Type != base.EventError || !notSent || e.Health.State != base.StateOffline || e.ErrorMessage == "" ||
		!strings.Contains(callErr.Error(), e.ErrorMessage) {
		t.Errorf("the error event after the call = %+v, want %q (or a kind of it) with the call's error %q, offline", e, channels.ErrNotSent.Error(), callErr)
	}
}

// QueryAnOrder is a call for CheckHealthStands of a wallet: a query of an
// order no terminal made.
func QueryAnOrder(p base.Base) error {
	_, err := p.(channels.Wallet).Query(context.Background(), channels.OrderRequest{Key: channels.Key{TID: "12345678", MID: "123456789012345", Batch: "000001", Trace: "000001"}, OrderNo: "POSRTPROBE0001"})
	return err
}
