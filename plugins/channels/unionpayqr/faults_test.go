package unionpayqr_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/channelstest"
	upqrsim "github.com/posrt/posrt/plugins/channels/sim/unionpayqr"
	"github.com/posrt/posrt/plugins/channels/unionpayqr"
)

// booked counts the ledger entries of op for orderId no.
func booked(sim *upqrsim.Server, op upqrsim.Op, no string) int {
	n := 0
	for _, e := range sim.Ledger() {
		if e.Op == op && (e.OrderID == no || e.Orig == no) {
			n++
		}
	}
	return n
}

// charged reports what the simulator's books say the customer paid for no.
func charged(sim *upqrsim.Server, no string) int64 {
	tr, ok := sim.Trade(no)
	if !ok || !tr.Paid || tr.Voided {
		return 0
	}
	return tr.Amount - tr.Refunded
}

// Every fault of a pay leaves an answer or an error of the right class,
// and the resolution the contract prescribes (query, then cancel; never a
// second order) agrees with the simulator's ledger: one order at most,
// charged once or not at all.
func TestPayFaults(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		fault   upqrsim.Fault
		class   channels.ErrorClass
		booked  bool // the order reached the books
		polls   int  // queries answered in process before success
		answers channels.TradeState
	}{
		{fault: upqrsim.Fault{Kind: upqrsim.FaultNoAnswer}, class: channels.ClassNoAnswer, booked: true},
		{fault: upqrsim.Fault{Kind: upqrsim.FaultLate}, class: channels.ClassNoAnswer, booked: true},
		{fault: upqrsim.Fault{Kind: upqrsim.FaultReset}, class: channels.ClassNoAnswer},
		{fault: upqrsim.Fault{Kind: upqrsim.FaultPartial}, class: channels.ClassNoAnswer, booked: true},
		{fault: upqrsim.Fault{Kind: upqrsim.FaultBadSign}, class: channels.ClassNoAnswer, booked: true},
		{fault: upqrsim.Fault{Kind: upqrsim.FaultSystemError}, class: channels.ClassNoAnswer},
		{fault: upqrsim.Fault{Kind: upqrsim.FaultDuplicate}, class: channels.ClassAnswered, booked: true, answers: channels.TradeSuccess},
		{fault: upqrsim.Fault{Kind: upqrsim.FaultUserPaying, Polls: 3}, class: channels.ClassAnswered, booked: true, polls: 2, answers: channels.TradeUserPaying},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault.Kind), func(t *testing.T) {
			sim, _ := startSim(t, func(c *upqrsim.Config) { c.LateDelay = 3 * time.Second })
			w := connect(t, sim, map[string]string{"timeout": "500ms"})
			tm := &terminal{}
			req := tm.pay(1000)
			f := tt.fault
			f.TxnType = unionpayqr.TxnPay
			if err := sim.InjectFault(f); err != nil {
				t.Fatal(err)
			}
			tr, err := w.Pay(ctx, req)
			if c := channels.Classify(err); c != tt.class {
				t.Fatalf("Pay under %s = %+v, %v (class %s); want class %s", f.Kind, tr, err, c, tt.class)
			}
			if err == nil && tr.State != tt.answers {
				t.Fatalf("Pay under %s = %+v, want %s", f.Kind, tr, tt.answers)
			}
			if err != nil && strings.Contains(err.Error(), req.AuthCode) {
				t.Errorf("the error shows the payment code in full: %v", err)
			}
			// Resolve as the runtime does: query (polling), then cancel if
			// the outcome is still not known.
			q, err := w.Query(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo})
			for i := 0; err == nil && q.State == channels.TradeUserPaying && i < 5; i++ {
				if i >= tt.polls {
					t.Fatalf("query %d still user_paying, want success after %d", i+1, tt.polls)
				}
				q, err = w.Query(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo})
			}
			if err != nil {
				t.Fatalf("Query after %s: %v", f.Kind, err)
			}
			if tt.booked {
				if q.State != channels.TradeSuccess || q.Paid != 1000 {
					t.Fatalf("Query after %s = %+v, want paid 1000 fen", f.Kind, q)
				}
				again, err := w.Pay(ctx, req)
				if err != nil || again.State != channels.TradeSuccess || again.TradeNo != q.TradeNo {
					t.Errorf("pay resent = %+v, %v; want the first trade %s", again, err, q.TradeNo)
				}
			} else {
				if q.State != channels.TradeNotFound {
					t.Fatalf("Query after %s = %+v, want not_found", f.Kind, q)
				}
				c, err := w.Cancel(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo})
				if err != nil || c.State != channels.TradeNotFound {
					t.Fatalf("Cancel of the order never booked = %+v, %v; want not_found", c, err)
				}
				if again, err := w.Pay(ctx, req); err != nil || again.State == channels.TradeSuccess {
					t.Errorf("pay resent after the cancel = %+v, %v; want it refused", again, err)
				}
			}
			want := map[bool]int{true: 1, false: 0}[tt.booked]
			if n := booked(sim, upqrsim.OpPay, req.OrderNo); n != want {
				t.Errorf("%d orders booked for %s, want %d", n, req.OrderNo, want)
			}
			if got := charged(sim, req.OrderNo); got != map[bool]int64{true: 1000}[tt.booked] {
				t.Errorf("the simulator charged %d fen", got)
			}
		})
	}
}

// A paid order whose answer was lost and which the runtime then cancels
// is voided (refunded in full): the books charge nothing.
func TestLostPayThenCancel(t *testing.T) {
	ctx := context.Background()
	sim, _ := startSim(t, nil)
	w := connect(t, sim, nil)
	tm := &terminal{}
	req := tm.pay(1500)
	_ = sim.InjectFault(upqrsim.Fault{Kind: upqrsim.FaultNoAnswer, TxnType: unionpayqr.TxnPay})
	if _, err := w.Pay(ctx, req); !errors.Is(err, channels.ErrNoAnswer) {
		t.Fatalf("Pay = %v, want ErrNoAnswer", err)
	}
	c, err := w.Cancel(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo})
	if err != nil || c.State != channels.TradeRevoked || c.Paid != 1500 {
		t.Fatalf("Cancel = %+v, %v; want revoked, paid 1500 fen", c, err)
	}
	if got := charged(sim, req.OrderNo); got != 0 {
		t.Errorf("charged %d fen after the cancel", got)
	}
}

// Every fault of a void is resolved by cancelling again: one void booked,
// nothing charged.
func TestCancelFaults(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []upqrsim.FaultKind{upqrsim.FaultNoAnswer, upqrsim.FaultPartial, upqrsim.FaultBadSign, upqrsim.FaultReset, upqrsim.FaultSystemError, upqrsim.FaultDuplicate} {
		t.Run(string(kind), func(t *testing.T) {
			sim, _ := startSim(t, nil)
			w := connect(t, sim, nil)
			tm := &terminal{}
			req := tm.pay(1200)
			if tr, err := w.Pay(ctx, req); err != nil || tr.State != channels.TradeSuccess {
				t.Fatalf("Pay = %+v, %v", tr, err)
			}
			_ = sim.InjectFault(upqrsim.Fault{Kind: kind, TxnType: unionpayqr.TxnVoid})
			c, err := w.Cancel(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo})
			if kind == upqrsim.FaultDuplicate {
				if err != nil || c.State != channels.TradeRevoked {
					t.Fatalf("Cancel delivered twice = %+v, %v; want revoked", c, err)
				}
			} else if !errors.Is(err, channels.ErrNoAnswer) {
				t.Fatalf("Cancel under %s = %+v, %v; want ErrNoAnswer", kind, c, err)
			}
			if c, err = w.Cancel(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo}); err != nil || c.State != channels.TradeRevoked {
				t.Fatalf("Cancel again = %+v, %v; want revoked", c, err)
			}
			if n := booked(sim, upqrsim.OpVoid, req.OrderNo); n != 1 {
				t.Errorf("%d voids booked, want 1", n)
			}
			if got := charged(sim, req.OrderNo); got != 0 {
				t.Errorf("charged %d fen after the cancel", got)
			}
		})
	}
}

// A void is for the same day only and in full: the next day the gateway
// refuses it (35) and the trade stays paid, to be refunded instead.
func TestVoidOnlyTheSameDay(t *testing.T) {
	ctx := context.Background()
	day := time.Date(2026, 8, 20, 23, 59, 0, 0, unionpayqr.HostZone)
	now := day
	sim, _ := startSim(t, func(c *upqrsim.Config) { c.Now = func() time.Time { return now } })
	w := connect(t, sim, nil)
	tm := &terminal{}
	req := tm.pay(1800)
	if tr, err := w.Pay(ctx, req); err != nil || tr.State != channels.TradeSuccess {
		t.Fatalf("Pay = %+v, %v", tr, err)
	}
	now = day.Add(2 * time.Minute)
	c, err := w.Cancel(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo})
	if err != nil || c.State != channels.TradeSuccess || c.Code != string(unionpayqr.RespOrigState) {
		t.Fatalf("Cancel the next day = %+v, %v; want the trade still success with code 35", c, err)
	}
	if got := charged(sim, req.OrderNo); got != 1800 {
		t.Errorf("charged %d fen, want 1800", got)
	}
}

// A refund whose answer is lost is retried under the same orderId and
// refunds once; faults on refunds are resolved the same way; the sum of
// refunds never passes the original.
func TestRefundFaults(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []upqrsim.FaultKind{upqrsim.FaultNoAnswer, upqrsim.FaultPartial, upqrsim.FaultBadSign, upqrsim.FaultReset, upqrsim.FaultSystemError, upqrsim.FaultDuplicate} {
		t.Run(string(kind), func(t *testing.T) {
			sim, _ := startSim(t, nil)
			w := connect(t, sim, nil)
			tm := &terminal{}
			req := tm.pay(5000)
			if tr, err := w.Pay(ctx, req); err != nil || tr.State != channels.TradeSuccess {
				t.Fatalf("Pay = %+v, %v", tr, err)
			}
			rk := tm.key()
			rr := channels.WalletRefundRequest{Key: rk, OrderNo: req.OrderNo, RefundNo: rk.RefundNo(), Amount: 2000, Total: 5000}
			_ = sim.InjectFault(upqrsim.Fault{Kind: kind, TxnType: unionpayqr.TxnRefund})
			r, err := w.Refund(ctx, rr)
			if kind == upqrsim.FaultDuplicate {
				if err != nil || r.State != channels.RefundSuccess {
					t.Fatalf("Refund delivered twice = %+v, %v; want success", r, err)
				}
			} else if !errors.Is(err, channels.ErrNoAnswer) {
				t.Fatalf("Refund under %s = %+v, %v; want ErrNoAnswer", kind, r, err)
			}
			r, err = w.Refund(ctx, rr)
			if err != nil || r.State != channels.RefundSuccess || r.Amount != 2000 {
				t.Fatalf("Refund retried = %+v, %v; want success of 2000 fen", r, err)
			}
			tr, _ := sim.Trade(req.OrderNo)
			if tr.Refunded != 2000 || tr.Refunds != 1 {
				t.Errorf("the simulator refunded %d fen in %d refunds, want 2000 in 1", tr.Refunded, tr.Refunds)
			}
			other := rr
			other.Amount = 1000
			if r, err := w.Refund(ctx, other); !errors.Is(err, channels.ErrDuplicate) {
				t.Errorf("refund number reused for 1000 fen = %+v, %v; want ErrDuplicate", r, err)
			}
			k2 := tm.key()
			if r, err := w.Refund(ctx, channels.WalletRefundRequest{Key: k2, OrderNo: req.OrderNo, RefundNo: k2.RefundNo(), Amount: 3001, Total: 5000}); err != nil || r.State != channels.RefundFailed || r.Code != string(unionpayqr.RespOverLimit) {
				t.Errorf("refund of 3001 fen of the 3000 left = %+v, %v; want failed 33", r, err)
			}
			if tr, _ := sim.Trade(req.OrderNo); tr.Refunded != 2000 {
				t.Errorf("the simulator refunded %d fen, want 2000", tr.Refunded)
			}
		})
	}
}

func writeFile(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file.pem")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestErrorClasses(t *testing.T) {
	ctx := context.Background()
	sim, _ := startSim(t, nil)
	tm := &terminal{}
	now := time.Now()

	// Nothing listens: not sent.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	_ = ln.Close()
	w := connect(t, sim, map[string]string{"gateway": closed})
	if _, err := w.Pay(ctx, tm.pay(1000)); channels.Classify(err) != channels.ClassNotSent {
		t.Errorf("Pay to a closed port: %v (class %s), want not sent", err, channels.Classify(err))
	}

	// Another merchant certificate: the gateway refuses the signature
	// (11), nothing booked.
	otherCert, otherKey, err := upqrsim.Issue("another merchant", nil, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	w = connect(t, sim, map[string]string{"sign_cert_file": writeFile(t, unionpayqr.EncodeCertificate(otherCert)), "sign_key_file": writeFile(t, unionpayqr.EncodePrivateKey(otherKey))})
	if _, err := w.Pay(ctx, tm.pay(1000)); !errors.Is(err, channels.ErrBadRequest) || !strings.Contains(err.Error(), "refused 11") {
		t.Errorf("Pay under another merchant certificate: %v, want ErrBadRequest naming 11", err)
	}
	if n := len(sim.Ledger()); n != 0 {
		t.Errorf("%d ledger entries after a refused signature", n)
	}
	if h, err := w.Health(ctx); err != nil || h.State != base.StateError {
		t.Errorf("Health under another merchant certificate = %+v, %v; want error", h, err)
	}
	// Another root: no answer's certificate chains to it, so none is
	// trusted.
	w = connect(t, sim, map[string]string{"root_cert_file": writeFile(t, unionpayqr.EncodeCertificate(otherCert))})
	req := tm.pay(1000)
	if _, err := w.Pay(ctx, req); !errors.Is(err, channels.ErrNoAnswer) || !strings.Contains(err.Error(), unionpayqr.ErrBadSign.Error()) {
		t.Errorf("Pay under another root: %v, want ErrNoAnswer (bad signature)", err)
	}
	if h, err := w.Health(ctx); err != nil || h.State != base.StateError {
		t.Errorf("Health under another root = %+v, %v; want error", h, err)
	}
	// A configuration whose certificate is not its key's is refused.
	bad := unionpayqr.New()
	cfg := pluginConfig(t, sim, map[string]string{"sign_key_file": writeFile(t, unionpayqr.EncodePrivateKey(otherKey))})
	if err := bad.Configure(ctx, channels.WalletAPIVersion1, cfg); err == nil {
		t.Error("Configure with a certificate not of the key: accepted")
	}

	// Malformed requests are refused before anything is sent.
	w = connect(t, sim, nil)
	zero := tm.pay(0)
	if _, err := w.Pay(ctx, zero); !errors.Is(err, channels.ErrBadRequest) {
		t.Errorf("Pay of 0 fen: %v, want ErrBadRequest", err)
	}
	long := tm.pay(100)
	long.OrderNo = strings.Repeat("9", 40)
	if _, err := w.Pay(ctx, long); !errors.Is(err, channels.ErrBadRequest) {
		t.Errorf("Pay under a 40-character order number: %v, want ErrBadRequest", err)
	}

	// Declines and refused codes are answers, with the cashier's message.
	for _, c := range []struct {
		amount int64
		code   string
		want   unionpayqr.RespCode
	}{
		{1251, authCode(1), unionpayqr.RespNoFunds},
		{1000, "134567890123456789", unionpayqr.RespQRInvalid},
		{1000, "6212345", unionpayqr.RespQRInvalid},
	} {
		req := tm.pay(c.amount)
		req.AuthCode = c.code
		tr, err := w.Pay(ctx, req)
		if err != nil || tr.State != channels.TradeNotPaid || tr.Code != string(c.want) || tr.Message != unionpayqr.Messages[c.want] {
			t.Errorf("Pay of %d fen with %s = %+v, %v; want not_paid %s with its message", c.amount, c.code, tr, err, c.want)
		}
	}
}

// A code the gateway issued pays once, within its lifetime only.
func TestCodeExpiry(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	sim, _ := startSim(t, func(c *upqrsim.Config) { c.Now = func() time.Time { return now }; c.CodeLifetime = time.Minute })
	w := connect(t, sim, nil)
	tm := &terminal{}
	req := tm.pay(1000)
	req.AuthCode = sim.IssueCode()
	now = now.Add(61 * time.Second)
	if tr, err := w.Pay(ctx, req); err != nil || tr.State != channels.TradeNotPaid || tr.Code != string(unionpayqr.RespQRInvalid) {
		t.Errorf("Pay with an expired code = %+v, %v; want not_paid 86", tr, err)
	}
	fresh := tm.pay(1000)
	fresh.AuthCode = sim.IssueCode()
	if tr, err := w.Pay(ctx, fresh); err != nil || tr.State != channels.TradeSuccess {
		t.Errorf("Pay with a fresh code = %+v, %v; want success", tr, err)
	}
}

// The ledger is replayed when the simulator starts again: trades, refunds
// and used codes survive, and the same plugin finds them.
func TestLedgerReplay(t *testing.T) {
	ctx := context.Background()
	sim, path := startSim(t, nil)
	w := channelstest.ConnectWallet(t, unionpayqr.New())
	state := map[string]string{"state_file": filepath.Join(t.TempDir(), "state.jsonl")}
	if err := w.Configure(ctx, channels.WalletAPIVersion1, pluginConfig(t, sim, state)); err != nil {
		t.Fatal(err)
	}
	tm := &terminal{}
	req := tm.pay(8000)
	first, err := w.Pay(ctx, req)
	if err != nil || first.State != channels.TradeSuccess {
		t.Fatalf("Pay = %+v, %v", first, err)
	}
	rk := tm.key()
	if r, err := w.Refund(ctx, channels.WalletRefundRequest{Key: rk, OrderNo: req.OrderNo, RefundNo: rk.RefundNo(), Amount: 3000, Total: 8000}); err != nil || r.State != channels.RefundSuccess {
		t.Fatalf("Refund = %+v, %v", r, err)
	}
	_ = sim.Close()
	again, _ := startSim(t, func(c *upqrsim.Config) { c.Ledger = path })
	if err := w.Configure(ctx, channels.WalletAPIVersion1, pluginConfig(t, again, state)); err != nil {
		t.Fatal(err)
	}
	q, err := w.Query(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo})
	if err != nil || q.State != channels.TradeRefunded || q.Refunded != 3000 || q.TradeNo != first.TradeNo {
		t.Fatalf("Query after a restart = %+v, %v; want trade %s refunded 3000 fen", q, err, first.TradeNo)
	}
	used := tm.pay(1000)
	used.AuthCode = req.AuthCode
	if tr, err := w.Pay(ctx, used); err != nil || tr.Code != string(unionpayqr.RespQRInvalid) {
		t.Errorf("the used code after a restart = %+v, %v; want 86", tr, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), req.AuthCode) || strings.Contains(string(b), "PRIVATE KEY") {
		t.Errorf("the ledger file holds the payment code or a key")
	}
}

// A pay whose answer is lost, then a plugin restart: with state_file the
// new plugin queries the order at the txnTime it was sent with and finds
// it paid, then voids it; without, ACP's query (orderId and txnTime) of a
// txnTime the plugin no longer knows finds nothing, which is why posrt
// sets state_file in production.
func TestStateFileSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	sim, _ := startSim(t, func(c *upqrsim.Config) { c.Ledger = "" })
	state := filepath.Join(t.TempDir(), "unionpayqr.state")
	tm := &terminal{}
	req := tm.pay(4200)
	first := unionpayqr.New()
	if err := first.Configure(ctx, channels.WalletAPIVersion1, pluginConfig(t, sim, map[string]string{"state_file": state})); err != nil {
		t.Fatal(err)
	}
	_ = sim.InjectFault(upqrsim.Fault{Kind: upqrsim.FaultNoAnswer, TxnType: unionpayqr.TxnPay})
	time.Sleep(1100 * time.Millisecond) // the restarted plugin's now is another txnTime
	if _, err := first.Pay(ctx, req); !errors.Is(err, channels.ErrNoAnswer) {
		t.Fatalf("Pay = %v, want ErrNoAnswer", err)
	}
	time.Sleep(1100 * time.Millisecond)
	forgetful := connect(t, sim, nil)
	if q, err := forgetful.Query(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo}); err != nil || q.State != channels.TradeNotFound {
		t.Errorf("Query by a plugin without the state file = %+v, %v; want not_found (it cannot name the txnTime)", q, err)
	}
	w := connect(t, sim, map[string]string{"state_file": state})
	q, err := w.Query(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo})
	if err != nil || q.State != channels.TradeSuccess || q.Paid != 4200 {
		t.Fatalf("Query after the restart = %+v, %v; want paid 4200 fen", q, err)
	}
	if c, err := w.Cancel(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo}); err != nil || c.State != channels.TradeRevoked {
		t.Fatalf("Cancel after the restart = %+v, %v; want revoked", c, err)
	}
	if got := charged(sim, req.OrderNo); got != 0 {
		t.Errorf("charged %d fen after the cancel", got)
	}
	b, err := os.ReadFile(state)
	if err != nil || strings.Contains(string(b), req.AuthCode) || !strings.Contains(string(b), req.OrderNo) {
		t.Errorf("the state file (%v) holds the code, or not the order: %s", err, b)
	}
}
