package alipay_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/alipay"
	alisim "github.com/posrt/posrt/plugins/channels/sim/alipay"
)

// booked counts the ledger entries of op for order no.
func booked(sim *alisim.Server, op alisim.Op, no string) int {
	n := 0
	for _, e := range sim.Ledger() {
		if e.Op == op && e.OutTradeNo == no {
			n++
		}
	}
	return n
}

// charged reports what the simulator's books say the customer paid for no.
func charged(sim *alisim.Server, no string) int64 {
	tr, ok := sim.Trade(no)
	if !ok || !tr.Paid || tr.Cancelled {
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
		fault   alisim.Fault
		class   channels.ErrorClass
		booked  bool // the order reached the books
		polls   int  // queries answered user_paying before success
		answers channels.TradeState
	}{
		{fault: alisim.Fault{Kind: alisim.FaultNoAnswer}, class: channels.ClassNoAnswer, booked: true},
		{fault: alisim.Fault{Kind: alisim.FaultLate}, class: channels.ClassNoAnswer, booked: true},
		{fault: alisim.Fault{Kind: alisim.FaultReset}, class: channels.ClassNoAnswer},
		{fault: alisim.Fault{Kind: alisim.FaultPartial}, class: channels.ClassNoAnswer, booked: true},
		{fault: alisim.Fault{Kind: alisim.FaultBadSign}, class: channels.ClassNoAnswer, booked: true},
		{fault: alisim.Fault{Kind: alisim.FaultSystemError}, class: channels.ClassNoAnswer},
		{fault: alisim.Fault{Kind: alisim.FaultDuplicate}, class: channels.ClassAnswered, booked: true, answers: channels.TradeSuccess},
		{fault: alisim.Fault{Kind: alisim.FaultUserPaying, Polls: 3}, class: channels.ClassAnswered, booked: true, polls: 2, answers: channels.TradeUserPaying},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault.Kind), func(t *testing.T) {
			sim, _ := startSim(t, func(c *alisim.Config) { c.LateDelay = 3 * time.Second })
			w := connect(t, sim, map[string]string{"timeout": "500ms"})
			tm := &terminal{}
			req := tm.pay(1000)
			f := tt.fault
			f.Method = alipay.MethodPay
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
			if n := booked(sim, alisim.OpOrder, req.OrderNo); n != want {
				t.Errorf("%d orders booked for %s, want %d", n, req.OrderNo, want)
			}
			if got := charged(sim, req.OrderNo); got != map[bool]int64{true: 1000}[tt.booked] {
				t.Errorf("the simulator charged %d fen", got)
			}
		})
	}
}

// A paid order whose answer was lost and which the runtime then cancels
// is refunded in full (action refund): the books charge nothing.
func TestLostPayThenCancel(t *testing.T) {
	ctx := context.Background()
	sim, _ := startSim(t, nil)
	w := connect(t, sim, nil)
	tm := &terminal{}
	req := tm.pay(1500)
	_ = sim.InjectFault(alisim.Fault{Kind: alisim.FaultNoAnswer, Method: alipay.MethodPay})
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

// A cancel answered 20000 (retry_flag Y) leaves the trade as it is and
// says so; the next Cancel cancels it.
func TestCancelRetry(t *testing.T) {
	ctx := context.Background()
	sim, _ := startSim(t, nil)
	w := connect(t, sim, nil)
	tm := &terminal{}
	req := tm.pay(1200)
	if tr, err := w.Pay(ctx, req); err != nil || tr.State != channels.TradeSuccess {
		t.Fatalf("Pay = %+v, %v", tr, err)
	}
	_ = sim.InjectFault(alisim.Fault{Kind: alisim.FaultSystemError, Method: alipay.MethodCancel})
	c, err := w.Cancel(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo})
	if err != nil || c.State != channels.TradeSuccess || c.Code == "" {
		t.Fatalf("Cancel answered 20000 = %+v, %v; want the trade still success, with the cancel's code", c, err)
	}
	if n := booked(sim, alisim.OpCancel, req.OrderNo); n != 0 {
		t.Fatalf("%d cancels booked after 20000", n)
	}
	if c, err = w.Cancel(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo}); err != nil || c.State != channels.TradeRevoked {
		t.Fatalf("Cancel again = %+v, %v; want revoked", c, err)
	}
	if got := charged(sim, req.OrderNo); got != 0 {
		t.Errorf("charged %d fen after the cancel", got)
	}
}

// A refund whose answer is lost is retried under the same out_request_no
// and refunds once; faults on trade.refund are resolved the same way.
func TestRefundFaults(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []alisim.FaultKind{alisim.FaultNoAnswer, alisim.FaultPartial, alisim.FaultBadSign, alisim.FaultReset, alisim.FaultSystemError, alisim.FaultDuplicate} {
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
			_ = sim.InjectFault(alisim.Fault{Kind: kind, Method: alipay.MethodRefund})
			r, err := w.Refund(ctx, rr)
			if kind == alisim.FaultDuplicate {
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
		})
	}
}

func writeKey(t *testing.T, pem []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(p, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestErrorClasses(t *testing.T) {
	ctx := context.Background()
	sim, _ := startSim(t, nil)
	tm := &terminal{}

	// Nothing listens: not sent.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/gateway.do"
	_ = ln.Close()
	w := connect(t, sim, map[string]string{"gateway": closed})
	if _, err := w.Pay(ctx, tm.pay(1000)); channels.Classify(err) != channels.ClassNotSent {
		t.Errorf("Pay to a closed port: %v (class %s), want not sent", err, channels.Classify(err))
	}

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	// Another merchant key: the gateway refuses the signature (40002),
	// nothing booked.
	w = connect(t, sim, map[string]string{"private_key_file": writeKey(t, alipay.EncodePrivateKey(other))})
	if _, err := w.Pay(ctx, tm.pay(1000)); !errors.Is(err, channels.ErrBadRequest) || !strings.Contains(err.Error(), "isv.invalid-signature") {
		t.Errorf("Pay under a wrong merchant key: %v, want ErrBadRequest naming isv.invalid-signature", err)
	}
	if n := len(sim.Ledger()); n != 0 {
		t.Errorf("%d ledger entries after a refused sign", n)
	}
	if h, err := w.Health(ctx); err != nil || h.State != base.StateError {
		t.Errorf("Health under a wrong merchant key = %+v, %v; want error", h, err)
	}
	// Another Alipay key: no answer verifies, so none is trusted.
	w = connect(t, sim, map[string]string{"alipay_public_key_file": writeKey(t, alipay.EncodePublicKey(&other.PublicKey))})
	req := tm.pay(1000)
	if _, err := w.Pay(ctx, req); !errors.Is(err, channels.ErrNoAnswer) || !strings.Contains(err.Error(), alipay.ErrBadSign.Error()) {
		t.Errorf("Pay under a wrong Alipay key: %v, want ErrNoAnswer (bad sign)", err)
	}
	if h, err := w.Health(ctx); err != nil || h.State != base.StateError {
		t.Errorf("Health under a wrong Alipay key = %+v, %v; want error", h, err)
	}

	// Malformed requests are refused before anything is sent.
	w = connect(t, sim, nil)
	bad := tm.pay(0)
	if _, err := w.Pay(ctx, bad); !errors.Is(err, channels.ErrBadRequest) {
		t.Errorf("Pay of 0 fen: %v, want ErrBadRequest", err)
	}
	bad = tm.pay(100)
	bad.OrderNo = strings.Repeat("9", 65)
	if _, err := w.Pay(ctx, bad); !errors.Is(err, channels.ErrBadRequest) {
		t.Errorf("Pay under a 65-character order number: %v, want ErrBadRequest", err)
	}

	// Declines and refused codes are answers, with Alipay's sub_code.
	for _, c := range []struct {
		amount int64
		code   string
		want   alipay.SubCode
	}{
		{1251, authCode(1), alipay.SubBalanceNotEnough},
		{1000, "134567890123456789", alipay.SubAuthCodeInvalid},
		{1000, "28456", alipay.SubAuthCodeInvalid},
	} {
		req := tm.pay(c.amount)
		req.AuthCode = c.code
		tr, err := w.Pay(ctx, req)
		if err != nil || tr.State != channels.TradeNotPaid || tr.Code != string(c.want) || tr.Message == "" {
			t.Errorf("Pay of %d fen with %s = %+v, %v; want not_paid %s with Alipay's message", c.amount, c.code, tr, err, c.want)
		}
	}
}

// The ledger is replayed when the simulator starts again: trades, refunds
// and used codes survive.
func TestLedgerReplay(t *testing.T) {
	ctx := context.Background()
	sim, path := startSim(t, nil)
	w := connect(t, sim, nil)
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
	again, _ := startSim(t, func(c *alisim.Config) { c.Ledger = path })
	// The same plugin, pointed at the restarted simulator, still knows the
	// refund it sent and finds it in the replayed ledger.
	if err := w.Configure(ctx, channels.WalletAPIVersion1, pluginConfig(t, again, nil)); err != nil {
		t.Fatal(err)
	}
	q, err := w.Query(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo})
	if err != nil || q.State != channels.TradeRefunded || q.Refunded != 3000 || q.TradeNo != first.TradeNo {
		t.Fatalf("Query after a restart = %+v, %v; want trade %s refunded 3000 fen", q, err, first.TradeNo)
	}
	// A fresh plugin knows no refund: trade.query alone says TRADE_SUCCESS,
	// and the refund is there by its number.
	fresh := connect(t, again, nil)
	if q, err := fresh.Query(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo}); err != nil || q.State != channels.TradeSuccess || q.Paid != 8000 || q.Refunded != 0 {
		t.Errorf("Query by a fresh plugin = %+v, %v; want success, 8000 fen paid, no refund known", q, err)
	}
	if r, err := fresh.RefundQuery(ctx, channels.RefundQueryRequest{Key: tm.key(), OrderNo: req.OrderNo, RefundNo: rk.RefundNo()}); err != nil || r.State != channels.RefundSuccess || r.Amount != 3000 {
		t.Errorf("RefundQuery after a restart = %+v, %v; want the 3000 fen refund", r, err)
	}
	used := tm.pay(1000)
	used.AuthCode = req.AuthCode
	if tr, err := w.Pay(ctx, used); err != nil || tr.Code != string(alipay.SubAuthCodeInvalid) {
		t.Errorf("the used code after a restart = %+v, %v; want ACQ.PAYMENT_AUTH_CODE_INVALID", tr, err)
	}
	for _, e := range again.Ledger() {
		if strings.Contains(e.MaskedCode+e.CodeDigest, req.AuthCode) {
			t.Errorf("the ledger holds the payment code: %+v", e)
		}
	}
}
