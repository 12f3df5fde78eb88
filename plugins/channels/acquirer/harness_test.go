package acquirer_test

import (
	"context"
	"crypto/hmac"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/acquirer"
	"github.com/posrt/posrt/plugins/channels/channelstest"
	acqsim "github.com/posrt/posrt/plugins/channels/sim/acquirer"
	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
	"github.com/posrt/posrt/plugins/pinpad/testcards"
)

var debit = testcards.Cards["unionpay-debit"]

// ecbSecurity plays a PIN pad that MACs with the UnionPay ECB MAC.
type ecbSecurity struct {
	mu  sync.Mutex
	key []byte
}

func (s *ecbSecurity) SetKey(k []byte) { s.mu.Lock(); s.key = k; s.mu.Unlock() }

func (s *ecbSecurity) CalculateMAC(_ context.Context, data []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cardcrypto.ECBMAC(s.key, data)
}

func (s *ecbSecurity) VerifyMAC(_ context.Context, data, mac []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	want, err := cardcrypto.ECBMAC(s.key, data)
	if err != nil {
		return err
	}
	if !hmac.Equal(want, mac) {
		return channels.ErrBadMAC
	}
	return nil
}

type keyLoader interface {
	channels.Security
	SetKey([]byte)
}

// harness is a terminal and its PIN pad signed in through the plugin,
// served over real go-plugin gRPC, to a simulator.
type harness struct {
	ch                       channels.Acquirer
	sec                      keyLoader
	batch                    string
	trace                    int
	pinKey, macKey, trackKey []byte
}

// newHarness connects a fresh plugin configured for sim (plus extra keys)
// and signs in; sec nil is the X9.19 PIN pad of channelstest.
func newHarness(t testing.TB, sim *acqsim.Server, extra map[string]string, sec ...keyLoader) *harness {
	t.Helper()
	h := newHarnessNoSignIn(t, sim, extra, sec...)
	h.signIn(t)
	return h
}

// newHarnessNoSignIn is newHarness before the sign-in.
func newHarnessNoSignIn(t testing.TB, sim *acqsim.Server, extra map[string]string, sec ...keyLoader) *harness {
	t.Helper()
	h := &harness{sec: &channelstest.Security{}}
	if len(sec) > 0 {
		h.sec = sec[0]
	}
	h.ch = channelstest.ConnectAcquirer(t, acquirer.New(), h.sec)
	cfg := map[string]string{"address": sim.Addr(), "timeout": "5s"}
	for k, v := range extra {
		cfg[k] = v
	}
	if err := h.ch.Configure(context.Background(), channels.APIVersion1, cfg); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) signIn(t testing.TB) {
	t.Helper()
	r, err := h.ch.SignIn(context.Background(), channels.SignInRequest{Key: channels.Key{TID: testTID, MID: testMID}, Operator: "01"})
	if err != nil || r.Code != channels.CodeApproved {
		t.Fatalf("SignIn = %+v, %v", r, err)
	}
	keys := make([][]byte, 3)
	for i, wk := range []channels.WorkingKey{r.PINKey, r.MACKey, r.TrackKey} {
		if keys[i], err = cardcrypto.Unwrap(testcards.TestTMK(), wk.Encrypted, wk.CheckValue); err != nil {
			t.Fatalf("unwrapping working key %d: %v", i+1, err)
		}
	}
	h.pinKey, h.macKey, h.trackKey, h.batch = keys[0], keys[1], keys[2], r.Batch
	h.sec.SetKey(h.macKey)
}

func (h *harness) next() channels.Key {
	h.trace++
	return channels.Key{TID: testTID, MID: testMID, Batch: h.batch, Trace: fmt.Sprintf("%06d", h.trace)}
}

func (h *harness) saleRequest(t testing.TB, k channels.Key, amount int64) channels.CardSaleRequest {
	t.Helper()
	track, err := cardcrypto.EncryptTrack(h.trackKey, debit.Track())
	if err != nil {
		t.Fatal(err)
	}
	block, err := cardcrypto.PINBlock(h.pinKey, debit.PIN, debit.PAN)
	if err != nil {
		t.Fatal(err)
	}
	return channels.CardSaleRequest{Key: k, Amount: amount, PINBlock: block,
		Card: channels.Card{MaskedPAN: cardcrypto.MaskPAN(debit.PAN), Expiry: debit.Expiry, EntryMode: "swipe", EncryptedTrack: track}}
}

func (h *harness) trySale(t testing.TB, k channels.Key, amount int64) (channels.Response, error) {
	t.Helper()
	return h.ch.Sale(context.Background(), h.saleRequest(t, k, amount))
}

func (h *harness) sale(t testing.TB, k channels.Key, amount int64) channels.Response {
	t.Helper()
	r, err := h.trySale(t, k, amount)
	if err != nil {
		t.Fatalf("Sale %s of %d fen: %v", k, amount, err)
	}
	return r
}

func countBooked(sim *acqsim.Server) int {
	n := 0
	for _, e := range sim.Ledger() {
		if e.Op == acqsim.OpSale || e.Op == acqsim.OpVoid || e.Op == acqsim.OpRefund {
			n++
		}
	}
	return n
}

// The host decides on the card as an issuer: an amount ending in 51 is
// declined 51, an expired card 54, each with its cashier message.
func TestIssuerDecisions(t *testing.T) {
	sim, _ := startSim(t, nil)
	h := newHarness(t, sim, nil)
	if r := h.sale(t, h.next(), 1251); r.Code != channels.CodeInsufficientFunds || r.Message != "insufficient funds" {
		t.Errorf("sale of 1251 fen = %+v, want 51 insufficient funds", r)
	}
	exp := testcards.Cards["expired"]
	track, _ := cardcrypto.EncryptTrack(h.trackKey, exp.Track())
	block, _ := cardcrypto.PINBlock(h.pinKey, exp.PIN, exp.PAN)
	r, err := h.ch.Sale(context.Background(), channels.CardSaleRequest{Key: h.next(), Amount: 1000, PINBlock: block,
		Card: channels.Card{MaskedPAN: cardcrypto.MaskPAN(exp.PAN), EncryptedTrack: track}})
	if err != nil || r.Code != "54" || r.Message != "card expired" {
		t.Errorf("sale with an expired card = %+v, %v; want 54 card expired", r, err)
	}
}

// A chip card's sale carries how it was read (22: 051 chip with PIN, 071
// contactless), its sequence number (23) and its ICC data (55), which the
// host checks as the issuer would: the data for the amount, the
// cryptogram the card's.
func TestChipSale(t *testing.T) {
	sim, _ := startSim(t, nil)
	h := newHarness(t, sim, nil)
	chip := func(mode string, amount int64, icc []byte, seq string) channels.Response {
		t.Helper()
		req := h.saleRequest(t, h.next(), amount)
		req.Card.EntryMode, req.Card.SequenceNumber, req.Card.ICCData = mode, seq, icc
		r, err := h.ch.Sale(context.Background(), req)
		if err != nil {
			t.Fatalf("chip sale (%s) of %d fen: %v", mode, amount, err)
		}
		return r
	}
	for i, mode := range []string{pinpad.EntryInsert, pinpad.EntryTap} {
		if r := chip(mode, 2300, testcards.ICCData(debit, 2300, uint16(i+1)), testcards.ChipSequenceNumber); r.Code != channels.CodeApproved {
			t.Errorf("chip sale (%s) = %+v, want approved", mode, r)
		}
	}
	forged := testcards.ICCData(debit, 2300, 3)
	forged[len(forged)-1] ^= 0x01
	if r := chip(pinpad.EntryInsert, 2300, forged, testcards.ChipSequenceNumber); r.Code != acqsim.CodeNotHonoured {
		t.Errorf("a forged cryptogram = %+v, want 05 not honoured", r)
	}
	if r := chip(pinpad.EntryInsert, 2400, testcards.ICCData(debit, 2300, 4), testcards.ChipSequenceNumber); r.Code != acqsim.CodeNotHonoured {
		t.Errorf("the chip's data for another amount = %+v, want 05 not honoured", r)
	}
	if r := chip(pinpad.EntryInsert, 2300, nil, ""); r.Code != acqsim.CodeFormatError {
		t.Errorf("a chip sale without its chip data = %+v, want 30 format error", r)
	}
	for _, e := range sim.Ledger() { // the host keeps no card data
		if strings.Contains(fmt.Sprintf("%+v", e), fmt.Sprintf("%X", forged[:8])) {
			t.Errorf("the host's ledger holds the ICC data: %+v", e)
		}
	}
}

// Health echoes the host at most once an echo_every, however often posrt
// asks.
func TestHealthAnswersFromItsLastProbe(t *testing.T) {
	sim, _ := startSim(t, nil)
	channelstest.CheckHealthStands(t, newHarness(t, sim, nil).ch, newHarness(t, sim, map[string]string{"echo_every": "1ns"}).ch, func() { _ = sim.Close() }, func(p base.Base) error {
		_, err := p.(channels.Acquirer).SignIn(context.Background(), channels.SignInRequest{Key: channels.Key{TID: testTID, MID: testMID}, Operator: "01"})
		return err
	})
}
