package acquirer_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/acquirer"
	acqsim "github.com/posrt/posrt/plugins/channels/sim/acquirer"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
	"github.com/posrt/posrt/plugins/pinpad/testcards"
)

func reversals(sim *acqsim.Server, k channels.Key) int {
	n := 0
	for _, e := range sim.Ledger() {
		if e.Op == acqsim.OpReverse && e.Key() == k {
			n++
		}
	}
	return n
}

// Every fault the simulator injects leads to the error class the runtime
// acts on, and the reversal that follows, sent once, leaves the host's
// books right: the sale reversed when it was booked, the trace refused
// when it was not.
func TestFaultsResolve(t *testing.T) {
	tests := []struct {
		kind   acqsim.FaultKind
		class  channels.ErrorClass
		booked bool
		reason channels.ReversalReason
	}{
		{acqsim.FaultNoAnswer, channels.ClassNoAnswer, true, channels.ReasonNoResponse},
		{acqsim.FaultLate, channels.ClassNoAnswer, true, channels.ReasonNoResponse},
		{acqsim.FaultReset, channels.ClassNoAnswer, false, channels.ReasonNoResponse},
		{acqsim.FaultPartial, channels.ClassNoAnswer, true, channels.ReasonNoResponse},
		{acqsim.FaultBadMAC, channels.ClassBadMAC, true, channels.ReasonMACError},
		{acqsim.FaultWrongTrace, channels.ClassNoAnswer, true, channels.ReasonNoResponse},
		{acqsim.FaultWrongTID, channels.ClassNoAnswer, true, channels.ReasonNoResponse},
		{acqsim.FaultWrongAmount, channels.ClassNoAnswer, true, channels.ReasonNoResponse},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			sim, _ := startSim(t, func(c *acqsim.Config) { c.LateDelay = 2 * time.Second })
			h := newHarness(t, sim, map[string]string{"timeout": "400ms"})
			if err := sim.InjectFault(acqsim.Fault{Kind: tt.kind, Amount: 1234}); err != nil {
				t.Fatal(err)
			}
			if r := h.sale(t, h.next(), 1000); !r.Approved() {
				t.Fatalf("sale of another amount = %+v, want approved", r)
			}
			k := h.next()
			_, err := h.trySale(t, k, 1234)
			if c := channels.Classify(err); c != tt.class {
				t.Fatalf("sale with fault %s: err %v, class %s, want %s", tt.kind, err, c, tt.class)
			}
			if b, ok := sim.Booked(k); ok != tt.booked || (ok && !b.Approved()) {
				t.Fatalf("Booked = %+v, %v; want booked %v", b, ok, tt.booked)
			}
			r, err := h.ch.Reverse(context.Background(), channels.ReverseRequest{Key: k, Amount: 1234, Reason: tt.reason})
			if err != nil || !r.Approved() {
				t.Fatalf("reversal = %+v, %v; want 00", r, err)
			}
			if b, ok := sim.Booked(k); ok && !b.Reversed {
				t.Errorf("booking after the reversal = %+v, want reversed", b)
			}
			if n := reversals(sim, k); n != 1 {
				t.Errorf("%d reversals in the host's ledger, want 1", n)
			}
			if r := h.sale(t, k, 1234); r.Approved() {
				t.Errorf("the sale resent after its reversal was approved: %+v", r)
			}
			q, err := h.ch.Query(context.Background(), channels.QueryRequest{Key: k})
			if err != nil || q.Booking != channels.BookingReversed {
				t.Errorf("Query after the reversal = %+v, %v; want reversed", q, err)
			}
		})
	}
}

// A system error is an answer (96): nothing booked, nothing to reverse.
func TestSystemErrorIsAnAnswer(t *testing.T) {
	sim, _ := startSim(t, nil)
	h := newHarness(t, sim, nil)
	if err := sim.InjectFault(acqsim.Fault{Kind: acqsim.FaultSystemError}); err != nil {
		t.Fatal(err)
	}
	k := h.next()
	r := h.sale(t, k, 1000)
	if r.Code != channels.CodeSystemError || r.Message != "host system error: try again later" {
		t.Errorf("sale = %+v, want 96 with its cashier message", r)
	}
	if _, ok := sim.Booked(k); ok {
		t.Error("a sale answered 96 was booked")
	}
}

// A duplicated answer is read once; the next request, on its own
// connection, gets its own answer; the host booked the sale once.
func TestDuplicateAnswerIgnored(t *testing.T) {
	sim, _ := startSim(t, nil)
	h := newHarness(t, sim, nil)
	if err := sim.InjectFault(acqsim.Fault{Kind: acqsim.FaultDuplicate, Count: 2}); err != nil {
		t.Fatal(err)
	}
	k1, k2 := h.next(), h.next()
	r1 := h.sale(t, k1, 1000)
	r2 := h.sale(t, k2, 2000)
	if !r1.Approved() || !r2.Approved() || r1.RRN == r2.RRN || r2.Amount != 2000 {
		t.Errorf("sales with duplicated answers = %+v, %+v; want each its own approval", r1, r2)
	}
	if n := countBooked(sim); n != 2 {
		t.Errorf("%d bookings, want 2", n)
	}
}

// Connection refused: nothing was sent.
func TestHostDownIsNotSent(t *testing.T) {
	sim, _ := startSim(t, nil)
	h := newHarness(t, sim, nil)
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := h.trySale(t, h.next(), 1000)
	if !errors.Is(err, channels.ErrHostRejected) || channels.Classify(err) != channels.ClassNotSent {
		t.Errorf("sale to a closed host: err %v (%s), want ErrHostRejected, class not sent", err, channels.Classify(err))
	}
	if hl, err := h.ch.Health(context.Background()); err != nil || hl.State != base.StateOffline {
		t.Errorf("Health with the host down = %+v, %v; want offline", hl, err)
	}
}

// Health sends an echo (0800 / 301) once signed in, and at most once an
// echo_every however often it is asked (posrt asks every second).
func TestHealthEcho(t *testing.T) {
	sim, _ := startSim(t, nil)
	h := newHarness(t, sim, nil)
	for range 5 {
		if hl, err := h.ch.Health(context.Background()); err != nil || hl.State != base.StateIdle {
			t.Errorf("Health = %+v, %v; want idle", hl, err)
		}
	}
	if n := sim.Echoes(); n != 1 {
		t.Errorf("five Health calls within echo_every sent %d echoes, want 1", n)
	}
	fast := newHarness(t, sim, map[string]string{"echo_every": "1ns"})
	for range 3 {
		if hl, err := fast.ch.Health(context.Background()); err != nil || hl.State != base.StateIdle {
			t.Errorf("Health = %+v, %v; want idle", hl, err)
		}
	}
	if n := sim.Echoes(); n != 4 {
		t.Errorf("three Health calls with echo_every 1ns sent %d more echoes, want 3", n-1)
	}
}

// The admin endpoint injects faults and shows the ledger.
func TestAdminEndpoint(t *testing.T) {
	sim, _ := startSim(t, func(c *acqsim.Config) { c.AdminAddr = "127.0.0.1:0" })
	h := newHarness(t, sim, nil)
	resp, err := http.Post(sim.AdminURL()+"/faults", "application/json", strings.NewReader(`{"kind": "no_answer", "count": 1, "amount": 777}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /faults: %s", resp.Status)
	}
	bad, err := http.Post(sim.AdminURL()+"/faults", "application/json", strings.NewReader(`{"kind": "gremlins"}`))
	if err != nil {
		t.Fatal(err)
	}
	bad.Body.Close()
	if bad.StatusCode != http.StatusBadRequest {
		t.Errorf("POST /faults of an unknown kind: %s, want 400", bad.Status)
	}
	k := h.next()
	if _, err := h.trySale(t, k, 777); channels.Classify(err) != channels.ClassNoAnswer {
		t.Fatalf("sale after POST /faults: %v, want no answer", err)
	}
	res, err := http.Get(sim.AdminURL() + "/ledger")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var entries []acqsim.Entry
	if err := json.NewDecoder(res.Body).Decode(&entries); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		found = found || (e.Op == acqsim.OpSale && e.Key() == k && e.Amount == 777)
	}
	if !found {
		t.Errorf("GET /ledger lacks the sale %s: %+v", k, entries)
	}
}

// The ledger is durable: a restarted host still knows the session keys and
// the booking, answers the retried sale as before, and its file holds no
// clear key, PAN, track or PIN block.
func TestLedgerSurvivesRestart(t *testing.T) {
	sim, path := startSim(t, nil)
	h := newHarness(t, sim, nil)
	k := h.next()
	req := h.saleRequest(t, k, 1000)
	first, err := h.ch.Sale(context.Background(), req)
	if err != nil || !first.Approved() {
		t.Fatalf("sale = %+v, %v", first, err)
	}
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := acqsim.Serve(context.Background(), acqsim.Config{Addr: sim.Addr(), Ledger: path,
		Terminals: []acqsim.Terminal{{TID: testTID, MID: testMID, TMK: testcards.TestTMK()}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = again.Close() })
	r, err := h.ch.Sale(context.Background(), req)
	if err != nil || r.RRN != first.RRN || r.Code != first.Code {
		t.Errorf("retried sale after the host restarted = %+v, %v; want the first answer %+v", r, err, first)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	upper := bytes.ToUpper(raw)
	for name, secret := range map[string]string{
		"PIN key": hex.EncodeToString(h.pinKey), "MAC key": hex.EncodeToString(h.macKey), "track key": hex.EncodeToString(h.trackKey),
		"PIN block": hex.EncodeToString(req.PINBlock), "encrypted track": hex.EncodeToString(req.Card.EncryptedTrack), "PAN": debit.PAN,
	} {
		if bytes.Contains(upper, bytes.ToUpper([]byte(secret))) {
			t.Errorf("the host's ledger holds the %s", name)
		}
	}
	if !bytes.Contains(raw, []byte(cardcrypto.MaskPAN(debit.PAN))) {
		t.Errorf("the host's ledger lacks the masked PAN")
	}
}

// Over TLS, with the host's certificate from tls_ca.
func TestTLS(t *testing.T) {
	hs := httptest.NewUnstartedServer(http.NotFoundHandler())
	hs.StartTLS()
	cert := hs.TLS.Certificates[0]
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hs.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	hs.Close()
	sim, _ := startSim(t, func(c *acqsim.Config) {
		c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	})
	h := newHarness(t, sim, map[string]string{"tls": "true", "tls_ca": ca})
	if r := h.sale(t, h.next(), 1000); !r.Approved() {
		t.Errorf("sale over TLS = %+v", r)
	}
	// Plain TCP to a TLS host: the handshake-less request gets no answer.
	plain := newHarnessNoSignIn(t, sim, nil)
	if _, err := plain.ch.SignIn(context.Background(), channels.SignInRequest{Key: channels.Key{TID: testTID, MID: testMID}}); err == nil {
		t.Error("plain sign-in to a TLS host succeeded")
	}
}

// With an ECB-MAC PIN pad and host the sale goes through.
func TestECBMAC(t *testing.T) {
	sim, _ := startSim(t, func(c *acqsim.Config) { c.MAC = acqsim.MACECB })
	h := newHarness(t, sim, map[string]string{"mac": "ecb"}, &ecbSecurity{})
	if r := h.sale(t, h.next(), 1000); !r.Approved() {
		t.Errorf("ECB-MACed sale = %+v", r)
	}
}

// Configure refuses unknown keys and bad values, and needs an address.
func TestConfigureRejects(t *testing.T) {
	for _, cfg := range []map[string]string{
		{},
		{"address": "nohost"},
		{"address": "127.0.0.1:1", "colour": "red"},
		{"address": "127.0.0.1:1", "tpdu": "7000030000"},
		{"address": "127.0.0.1:1", "timeout": "-1s"},
		{"address": "127.0.0.1:1", "mac": "md5"},
		{"address": "127.0.0.1:1", "tls": "true", "tls_ca": "/nonexistent"},
		{"address": "127.0.0.1:1", "tls_server_name": "host"},
	} {
		if err := acquirer.New().Configure(context.Background(), channels.APIVersion1, cfg); err == nil {
			t.Errorf("Configure(%v) accepted", cfg)
		}
	}
	if err := acquirer.New().Configure(context.Background(), "v0", map[string]string{"address": "127.0.0.1:1"}); err == nil {
		t.Error("Configure with an unknown API version accepted")
	}
}
