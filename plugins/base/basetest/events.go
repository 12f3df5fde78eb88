package basetest

import (
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
)

// NextEvent returns the next event a watch put on events, failing the test
// when none comes within 30 seconds (a bound for a stalled stream, not a
// timing: a loaded machine stays well inside it).
func NextEvent(t testing.TB, events <-chan base.Event) base.Event {
	t.Helper()
	select {
	case e := <-events:
		return e
	case <-time.After(30 * time.Second):
		t.Fatal("no event in 30s")
		return base.Event{}
	}
}
