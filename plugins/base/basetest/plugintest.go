package basetest

import (
	"testing"

	goplugin "github.com/hashicorp/go-plugin"
)

// Connect serves p under kind and returns the dispensed client as T. The
// connection is closed when the test ends.
func Connect[T any](t testing.TB, kind string, p goplugin.Plugin) T {
	t.Helper()
	client, server := goplugin.TestPluginGRPCConn(t, false, map[string]goplugin.Plugin{kind: p})
	t.Cleanup(func() {
		// Server first: Close asks the server to stop itself through
		// go-plugin's controller, which would race with a Stop of our own.
		server.Stop()
		_ = client.Close()
	})
	raw, err := client.Dispense(kind)
	if err != nil {
		t.Fatalf("dispensing the %s plugin: %v", kind, err)
	}
	impl, ok := raw.(T)
	if !ok {
		t.Fatalf("dispensed %T for the %s plugin, not the kind's interface", raw, kind)
	}
	return impl
}
