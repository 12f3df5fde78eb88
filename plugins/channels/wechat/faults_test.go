package wechat_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
	wxsim "github.com/posrt/posrt/plugins/channels/sim/wechat"
	"github.com/posrt/posrt/plugins/channels/wechat"
)

// booked counts the ledger entries of op for order no.
func booked(sim *wxsim.Server, op wxsim.Op, no string) int {
	n := 0
	for _, e := range sim.Ledger() {
		if e.Op == op && e.OutTradeNo == no {
			n++
		}
	}
	return n
}

// charged reports what the simulator's books say the customer paid for no.
func charged(t *testing.T, sim *wxsim.Server, no string) int64 {
	t.Helper()
	tr, ok := sim.Trade(testMchID, no)
	if !ok || !tr.Paid || tr.State == wechat.StateRevoked {
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
		fault   wxsim.Fault
		class   channels.ErrorClass
		booked  bool // the order reached the books
		polls   int  // queries answered user_paying before success
		answers channels.TradeState
	}{
		{fault: wxsim.Fault{Kind: wxsim.FaultNoAnswer}, class: channels.ClassNoAnswer, booked: true},
		{fault: wxsim.Fault{Kind: wxsim.FaultLate}, class: channels.ClassNoAnswer, booked: true},
		{fault: wxsim.Fault{Kind: wxsim.FaultReset}, class: channels.ClassNoAnswer},
		{fault: wxsim.Fault{Kind: wxsim.FaultPartial}, class: channels.ClassNoAnswer, booked: true},
		{fault: wxsim.Fault{Kind: wxsim.FaultBadSign}, class: channels.ClassNoAnswer, booked: true},
		{fault: wxsim.Fault{Kind: wxsim.FaultSystemError}, class: channels.ClassNoAnswer},
		{fault: wxsim.Fault{Kind: wxsim.FaultDuplicate}, class: channels.ClassAnswered, booked: true, answers: channels.TradeSuccess},
		{fault: wxsim.Fault{Kind: wxsim.FaultUserPaying, Polls: 3}, class: channels.ClassAnswered, booked: true, polls: 2, answers: channels.TradeUserPaying},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault.Kind), func(t *testing.T) {
			sim, _ := startSim(t, func(c *wxsim.Config) { c.LateDelay = 3 * time.Second })
			w := connect(t, sim, map[string]string{"timeout": "500ms"})
			tm := &terminal{}
			req := tm.pay(1000)
			f := tt.fault
			f.Path = wechat.PathMicropay
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
			// A resend of the same pay never charges twice.
			if tt.booked {
				again, err := w.Pay(ctx, req)
				if err != nil || again.State != channels.TradeSuccess || again.TradeNo != q.TradeNo {
					t.Errorf("pay resent = %+v, %v; want the first trade %s", again, err, q.TradeNo)
				}
			}
			want := map[bool]int{true: 1, false: 0}[tt.booked]
			if n := booked(sim, wxsim.OpOrder, req.OrderNo); n != want {
				t.Errorf("%d orders booked for %s, want %d", n, req.OrderNo, want)
			}
			if got := charged(t, sim, req.OrderNo); got != map[bool]int64{true: 1000}[tt.booked] {
				t.Errorf("the simulator charged %d fen", got)
			}
		})
	}
}

// A paid order whose answer was lost and which the runtime then cancels
// is refunded in full: the books charge nothing.
func TestLostPayThenCancel(t *testing.T) {
	ctx := context.Background()
	sim, _ := startSim(t, nil)
	w := connect(t, sim, nil)
	tm := &terminal{}
	req := tm.pay(1500)
	_ = sim.InjectFault(wxsim.Fault{Kind: wxsim.FaultNoAnswer, Path: wechat.PathMicropay})
	if _, err := w.Pay(ctx, req); !errors.Is(err, channels.ErrNoAnswer) {
		t.Fatalf("Pay = %v, want ErrNoAnswer", err)
	}
	c, err := w.Cancel(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo})
	if err != nil || c.State != channels.TradeRevoked || c.Paid != 1500 {
		t.Fatalf("Cancel = %+v, %v; want revoked, paid 1500 fen", c, err)
	}
	if got := charged(t, sim, req.OrderNo); got != 0 {
		t.Errorf("charged %d fen after the cancel", got)
	}
}

// A reverse answered SYSTEMERROR (recall Y) leaves the trade as it is and
// says so; the next Cancel reverses it.
func TestCancelRecall(t *testing.T) {
	ctx := context.Background()
	sim, _ := startSim(t, nil)
	w := connect(t, sim, nil)
	tm := &terminal{}
	req := tm.pay(1200)
	if tr, err := w.Pay(ctx, req); err != nil || tr.State != channels.TradeSuccess {
		t.Fatalf("Pay = %+v, %v", tr, err)
	}
	_ = sim.InjectFault(wxsim.Fault{Kind: wxsim.FaultSystemError, Path: wechat.PathReverse})
	c, err := w.Cancel(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo})
	if err != nil || c.State != channels.TradeSuccess || c.Code != string(wechat.CodeSystemError) {
		t.Fatalf("Cancel answered SYSTEMERROR = %+v, %v; want the trade still success, code SYSTEMERROR", c, err)
	}
	if n := booked(sim, wxsim.OpReverse, req.OrderNo); n != 0 {
		t.Fatalf("%d reverses booked after SYSTEMERROR", n)
	}
	if c, err = w.Cancel(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo}); err != nil || c.State != channels.TradeRevoked {
		t.Fatalf("Cancel again = %+v, %v; want revoked", c, err)
	}
	if got := charged(t, sim, req.OrderNo); got != 0 {
		t.Errorf("charged %d fen after the cancel", got)
	}
}

// A refund whose answer is lost is retried under the same out_refund_no
// and refunds once; faults on the refund path are resolved the same way.
func TestRefundFaults(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []wxsim.FaultKind{wxsim.FaultNoAnswer, wxsim.FaultPartial, wxsim.FaultBadSign, wxsim.FaultReset, wxsim.FaultSystemError, wxsim.FaultDuplicate} {
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
			_ = sim.InjectFault(wxsim.Fault{Kind: kind, Path: wechat.PathRefund})
			r, err := w.Refund(ctx, rr)
			if kind == wxsim.FaultDuplicate {
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
			tr, _ := sim.Trade(testMchID, req.OrderNo)
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

func TestErrorClasses(t *testing.T) {
	ctx := context.Background()
	sim, _ := startSim(t, nil)
	tm := &terminal{}

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

	// Another key: WeChat refuses the sign, unsigned; no answer to trust,
	// nothing booked.
	w = connect(t, sim, map[string]string{"key": strings.Repeat("0", 32)})
	req := tm.pay(1000)
	if _, err := w.Pay(ctx, req); !errors.Is(err, channels.ErrNoAnswer) || !strings.Contains(err.Error(), "签名错误") {
		t.Errorf("Pay under a wrong key: %v, want ErrNoAnswer naming the gateway's 签名错误", err)
	}
	if n := len(sim.Ledger()); n != 0 {
		t.Errorf("%d ledger entries after a refused sign", n)
	}
	if h, err := w.Health(ctx); err != nil || h.State != base.StateError {
		t.Errorf("Health under a wrong key = %+v, %v; want error", h, err)
	}

	// Malformed requests are refused before anything is sent.
	w = connect(t, sim, nil)
	bad := tm.pay(0)
	if _, err := w.Pay(ctx, bad); !errors.Is(err, channels.ErrBadRequest) {
		t.Errorf("Pay of 0 fen: %v, want ErrBadRequest", err)
	}
	bad = tm.pay(100)
	bad.OrderNo = strings.Repeat("9", 33)
	if _, err := w.Pay(ctx, bad); !errors.Is(err, channels.ErrBadRequest) {
		t.Errorf("Pay under a 33-character order number: %v, want ErrBadRequest", err)
	}

	// Declines and refused codes are answers, with WeChat's code.
	for _, c := range []struct {
		amount int64
		code   string
		want   wechat.Code
	}{
		{1251, authCode(1), wechat.CodeNotEnough},
		{1000, "163456789012345678", wechat.CodeAuthCodeInvalid},
		{1000, "13456", wechat.CodeAuthCodeInvalid},
	} {
		req := tm.pay(c.amount)
		req.AuthCode = c.code
		tr, err := w.Pay(ctx, req)
		if err != nil || tr.State != channels.TradeNotPaid || tr.Code != string(c.want) || tr.Message == "" {
			t.Errorf("Pay of %d fen with %s = %+v, %v; want not_paid %s with WeChat's message", c.amount, c.code, tr, err, c.want)
		}
	}
}

func TestCodeExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 8, 20, 10, 30, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	sim, _ := startSim(t, func(c *wxsim.Config) { c.Now = clock })
	w := connect(t, sim, nil)
	tm := &terminal{}
	req := tm.pay(1000)
	req.AuthCode = sim.IssueCode()
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	tr, err := w.Pay(context.Background(), req)
	if err != nil || tr.State != channels.TradeNotPaid || tr.Code != string(wechat.CodeAuthCodeExpire) {
		t.Fatalf("Pay with a code issued 61 s ago = %+v, %v; want not_paid AUTHCODEEXPIRE", tr, err)
	}
	req = tm.pay(1000)
	req.AuthCode = sim.IssueCode()
	if tr, err := w.Pay(context.Background(), req); err != nil || tr.State != channels.TradeSuccess {
		t.Fatalf("Pay with a fresh code = %+v, %v", tr, err)
	}
	if tr, _ := sim.Trade(testMchID, req.OrderNo); !tr.Paid || len(sim.Ledger()) != 1 {
		t.Errorf("ledger %+v, want the one paid order", sim.Ledger())
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
	again, _ := startSim(t, func(c *wxsim.Config) { c.Ledger = path })
	w = connect(t, again, nil)
	q, err := w.Query(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo})
	if err != nil || q.State != channels.TradeRefunded || q.Refunded != 3000 || q.TradeNo != first.TradeNo {
		t.Fatalf("Query after a restart = %+v, %v; want trade %s refunded 3000 fen", q, err, first.TradeNo)
	}
	used := tm.pay(1000)
	used.AuthCode = req.AuthCode
	if tr, err := w.Pay(ctx, used); err != nil || tr.Code != string(wechat.CodeAuthCodeExpire) {
		t.Errorf("the used code after a restart = %+v, %v; want AUTHCODEEXPIRE", tr, err)
	}
	for _, e := range again.Ledger() {
		if strings.Contains(e.MaskedCode+e.CodeDigest, req.AuthCode) {
			t.Errorf("the ledger holds the payment code: %+v", e)
		}
	}
}
