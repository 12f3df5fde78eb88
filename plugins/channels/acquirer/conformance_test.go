package acquirer_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/acquirer"
	"github.com/posrt/posrt/plugins/channels/channelstest"
	acqsim "github.com/posrt/posrt/plugins/channels/sim/acquirer"
	"github.com/posrt/posrt/plugins/pinpad/testcards"
)

const (
	testTID = "10000001"
	testMID = "898310048990001"
)

// startSim starts a simulator on loopback serving the test terminal, with
// its ledger in a temporary directory, closed when t ends.
func startSim(t testing.TB, mutate func(*acqsim.Config)) (*acqsim.Server, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "host", "ledger.jsonl")
	cfg := acqsim.Config{
		Terminals: []acqsim.Terminal{{TID: testTID, MID: testMID, TMK: testcards.TestTMK()}},
		Ledger:    path,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := acqsim.Serve(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

func TestConformance(t *testing.T) {
	sim, _ := startSim(t, nil)
	channelstest.RunAcquirerConformance(t, channelstest.AcquirerHarness{
		New:    func(*testing.T) channels.Acquirer { return acquirer.New() },
		Config: map[string]string{"address": sim.Addr(), "timeout": "10s"},
		TID:    testTID, MID: testMID,
	})
}

// The simulator with the UnionPay ECB MAC: a PIN pad computing X9.19 has
// every MACed request refused A0, and nothing is booked.
func TestECBMACHostRefusesX919(t *testing.T) {
	sim, _ := startSim(t, func(c *acqsim.Config) { c.MAC = acqsim.MACECB })
	h := newHarness(t, sim, nil)
	r := h.sale(t, h.next(), 1000)
	if r.Code != channels.CodeMACError {
		t.Errorf("X9.19-MACed sale to an ECB-MAC host = %+v, want A0", r)
	}
	if n := countBooked(sim); n != 0 {
		t.Errorf("%d bookings after a sale refused for its MAC", n)
	}
}
