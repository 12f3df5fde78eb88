package basetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
)

// Step runs fn as the subtest name of t and stops t when it fails: the
// steps of a conformance suite depend on each other, so the first failure
// ends the suite.
func Step(t *testing.T, name string, fn func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, fn) {
		t.FailNow()
	}
}

// Base is what RunBase expects of a plugin's base service.
type Base struct {
	// Kind is the kind Info must report, such as base.KindPrinter.
	Kind string
	// APIVersion is the API version Info must list and Configure is given.
	APIVersion string
	// Config is the configuration Configure is given.
	Config map[string]string
}

// unknownAPIVersion is an API version no plugin speaks.
const unknownAPIVersion = "v999"

// RunBase runs the steps every kind's conformance suite opens with, each a
// Step of t: Info (the kind, a name, a version, and want.APIVersion among
// the API versions), Configure (with want.APIVersion and want.Config),
// ConfigureRejectsUnknownAPIVersion (Configure with an API version nobody
// speaks fails), Health (idle or busy) and WatchOpensWithTheState (Watch sends the state at once). p is the host-side client.
func RunBase(t *testing.T, ctx context.Context, p base.Base, want Base) {
	t.Helper()
	Step(t, "Info", func(t *testing.T) {
		info, err := p.Info(ctx)
		if err != nil {
			t.Fatalf("Info: %v", err)
		}
		if info.Kind != want.Kind || info.Name == "" || info.Version == "" {
			t.Errorf("Info = %+v, want kind %q, a name and a version", info, want.Kind)
		}
		if !slices.Contains(info.APIVersions, want.APIVersion) {
			t.Errorf("Info.APIVersions = %v, want %s among them", info.APIVersions, want.APIVersion)
		}
	})
	Step(t, "Configure", func(t *testing.T) {
		if err := p.Configure(ctx, want.APIVersion, want.Config); err != nil {
			t.Fatalf("Configure(%s): %v", want.APIVersion, err)
		}
	})
	Step(t, "ConfigureRejectsUnknownAPIVersion", func(t *testing.T) {
		if err := p.Configure(ctx, unknownAPIVersion, want.Config); err == nil {
			t.Errorf("Configure accepted API version %s", unknownAPIVersion)
		}
	})
	Step(t, "Health", func(t *testing.T) {
		hl, err := p.Health(ctx)
		if err != nil {
			t.Fatalf("Health: %v", err)
		}
		if hl.State != base.StateIdle && hl.State != base.StateBusy {
			t.Errorf("Health = %+v, want idle or busy", hl)
		}
	})
	Step(t, "WatchOpensWithTheState", func(t *testing.T) {
		w, ok := p.(base.Watcher)
		if !ok {
			t.Fatalf("the client %T has no Watch", p)
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var first base.Event
		errStop := errors.New("first event seen")
		err := w.Watch(wctx, func(e base.Event) error { first = e; return errStop })
		if !errors.Is(err, errStop) {
			t.Fatalf("Watch = %v before any event, want a status event at once", err)
		}
		if first.Type != base.EventStatus || (first.Health.State != base.StateIdle && first.Health.State != base.StateBusy) || first.At.IsZero() {
			t.Errorf("first event %+v, want a status event, idle or busy, with its time", first)
		}
	})
}
