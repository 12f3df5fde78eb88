package channelstest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/channels"
)

// WalletHarness describes a wallet implementation to RunWalletConformance.
type WalletHarness struct {
	// New returns a fresh, unconfigured implementation that has never seen
	// the suite's order numbers. It is called once.
	New func(t *testing.T) channels.Wallet
	// Config is passed to Configure. With it the wallet must pay at once
	// amounts ending in 00, answer UserPayingAmount user_paying until
	// queried a few times (at most MaxPolls), then succeed, and lose the
	// answer to a pay of LoseAmount after booking it.
	Config map[string]string
	// AuthCode returns the i-th fresh payment code of this wallet; each
	// i gives another code.
	AuthCode func(i int) string
	// ForeignCode is a payment code of another wallet.
	ForeignCode string
	// UserPayingAmount and LoseAmount are the amounts above, in fen.
	UserPayingAmount, LoseAmount int64
	// MaxPolls bounds the queries of a user-paying trade; default 10.
	// PollEvery is the pause between them; default none.
	MaxPolls  int
	PollEvery time.Duration
	// TID and MID of the terminal the suite plays; defaults 10000001 and
	// 898310048990001.
	TID, MID string
}

// ConnectWallet serves impl through real go-plugin gRPC in this process
// and returns the host-side client. Both ends are closed when t ends.
func ConnectWallet(t testing.TB, impl channels.Wallet) channels.Wallet {
	t.Helper()
	return basetest.Connect[channels.Wallet](t, base.KindWallet, channels.NewWalletPlugin(impl))
}

// RunWalletConformance checks that a wallet implementation keeps the
// channels.Wallet contract, talking to it only through gRPC: Info, API
// version negotiation, Health, a pay and its idempotent retry, a retry with
// other content and a used or foreign payment code refused, Query, a
// user-paying trade completed by polling, Cancel of a user-paying and of a
// paid trade, partial refunds with refund numbers and their retry, a refund
// beyond the total refused, RefundQuery, and a lost answer resolved by
// Query. The steps depend on each other; the first failure stops the suite.
func RunWalletConformance(t *testing.T, h WalletHarness) {
	if h.New == nil || h.AuthCode == nil {
		t.Fatal("WalletHarness.New or AuthCode is nil")
	}
	if h.TID == "" {
		h.TID = "10000001"
	}
	if h.MID == "" {
		h.MID = "898310048990001"
	}
	if h.MaxPolls == 0 {
		h.MaxPolls = 10
	}
	w := ConnectWallet(t, h.New(t))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	trace, codes := 0, 0
	next := func() channels.Key {
		trace++
		return channels.Key{TID: h.TID, MID: h.MID, Batch: "000001", Trace: fmt.Sprintf("%06d", trace)}
	}
	code := func() string { codes++; return h.AuthCode(codes) }
	pay := func(t *testing.T, req channels.PayRequest) channels.Trade {
		t.Helper()
		tr, err := w.Pay(ctx, req)
		if err != nil {
			t.Fatalf("Pay %s of %d fen: %v", req.OrderNo, req.Amount, err)
		}
		return tr
	}
	newPay := func(amount int64) channels.PayRequest {
		k := next()
		return channels.PayRequest{Key: k, OrderNo: k.OrderNo(), Amount: amount, AuthCode: code(), Subject: "posrt conformance"}
	}
	query := func(t *testing.T, orderNo string) channels.Trade {
		t.Helper()
		tr, err := w.Query(ctx, channels.OrderRequest{Key: next(), OrderNo: orderNo})
		if err != nil {
			t.Fatalf("Query %s: %v", orderNo, err)
		}
		return tr
	}
	succeeded := func(t *testing.T, what string, tr channels.Trade, amount int64) {
		t.Helper()
		if tr.State != channels.TradeSuccess || tr.TradeNo == "" || tr.Amount != amount || tr.Paid != amount || tr.HostTime.IsZero() {
			t.Fatalf("%s: %+v, want state success, a trade number, amount and paid %d fen and the host time", what, tr, amount)
		}
	}
	cancelled := func(s channels.TradeState) bool { return s == channels.TradeRevoked || s == channels.TradeClosed }

	basetest.RunBase(t, ctx, w, basetest.Base{Kind: base.KindWallet, APIVersion: channels.WalletAPIVersions[0], Config: h.Config})

	var reqA channels.PayRequest
	var tradeA channels.Trade
	basetest.Step(t, "PaySucceeds", func(t *testing.T) {
		reqA = newPay(10000)
		tradeA = pay(t, reqA)
		succeeded(t, "pay", tradeA, 10000)
		if tradeA.OrderNo != reqA.OrderNo {
			t.Errorf("pay answered order %q, want %q", tradeA.OrderNo, reqA.OrderNo)
		}
	})
	basetest.Step(t, "PayRetryIsIdempotent", func(t *testing.T) {
		again := pay(t, reqA)
		succeeded(t, "retried pay", again, 10000)
		if again.TradeNo != tradeA.TradeNo {
			t.Errorf("retried pay made trade %s, want the first one %s", again.TradeNo, tradeA.TradeNo)
		}
		if q := query(t, reqA.OrderNo); q.TradeNo != tradeA.TradeNo || q.Paid != 10000 {
			t.Errorf("Query after the retry = %+v, want trade %s paid 10000 fen once", q, tradeA.TradeNo)
		}
	})
	basetest.Step(t, "PayRetryWithOtherContentIsRefused", func(t *testing.T) {
		other := reqA
		other.Amount, other.AuthCode = 20000, code()
		tr, err := w.Pay(ctx, other)
		if err == nil && (tr.State == channels.TradeSuccess || tr.State == channels.TradeUserPaying) {
			t.Fatalf("pay of 20000 fen under the order number of a paid 10000 fen order: %+v", tr)
		}
		if q := query(t, reqA.OrderNo); q.Amount != 10000 || q.Paid != 10000 || q.TradeNo != tradeA.TradeNo {
			t.Errorf("the first trade after the refused retry = %+v, want it untouched", q)
		}
	})
	basetest.Step(t, "UsedCodeIsRefused", func(t *testing.T) {
		req := newPay(10000)
		req.AuthCode = reqA.AuthCode
		tr, err := w.Pay(ctx, req)
		if err == nil && tr.State != channels.TradeNotPaid {
			t.Errorf("pay with a payment code already used: %+v, want not_paid", tr)
		}
	})
	basetest.Step(t, "ForeignCodeIsRefused", func(t *testing.T) {
		req := newPay(10000)
		req.AuthCode = h.ForeignCode
		tr := pay(t, req)
		if tr.State != channels.TradeNotPaid || tr.Code == "" || tr.Paid != 0 {
			t.Errorf("pay with another wallet's code %s: %+v, want not_paid with the wallet's code", h.ForeignCode, tr)
		}
	})
	basetest.Step(t, "Query", func(t *testing.T) {
		q := query(t, reqA.OrderNo)
		succeeded(t, "Query", q, 10000)
		if unknown := next().OrderNo(); query(t, unknown).State != channels.TradeNotFound {
			t.Errorf("Query of order %s never paid: want not_found", unknown)
		}
	})
	basetest.Step(t, "UserPayingThenSuccess", func(t *testing.T) {
		req := newPay(h.UserPayingAmount)
		tr := pay(t, req)
		if tr.State != channels.TradeUserPaying {
			t.Fatalf("pay of %d fen: %+v, want user_paying", req.Amount, tr)
		}
		for i := 0; i < h.MaxPolls && tr.State == channels.TradeUserPaying; i++ {
			time.Sleep(h.PollEvery)
			tr = query(t, req.OrderNo)
		}
		succeeded(t, fmt.Sprintf("Query after at most %d polls", h.MaxPolls), tr, req.Amount)
	})
	basetest.Step(t, "CancelUserPaying", func(t *testing.T) {
		req := newPay(h.UserPayingAmount)
		if tr := pay(t, req); tr.State != channels.TradeUserPaying {
			t.Fatalf("pay of %d fen: %+v, want user_paying", req.Amount, tr)
		}
		c, err := w.Cancel(ctx, channels.OrderRequest{Key: next(), OrderNo: req.OrderNo})
		if err != nil || !cancelled(c.State) {
			t.Fatalf("Cancel of a user-paying trade = %+v, %v; want revoked or closed", c, err)
		}
		for i := 0; i < h.MaxPolls; i++ {
			if q := query(t, req.OrderNo); !cancelled(q.State) {
				t.Fatalf("Query %d after Cancel = %+v, want revoked or closed", i+1, q)
			}
		}
		if tr, err := w.Pay(ctx, req); err == nil && tr.State == channels.TradeSuccess {
			t.Errorf("pay retried after Cancel: %+v", tr)
		}
	})
	basetest.Step(t, "CancelPaid", func(t *testing.T) {
		req := newPay(3000)
		succeeded(t, "pay", pay(t, req), 3000)
		for i := 0; i < 2; i++ {
			c, err := w.Cancel(ctx, channels.OrderRequest{Key: next(), OrderNo: req.OrderNo})
			if err != nil || !cancelled(c.State) {
				t.Fatalf("Cancel #%d of a paid trade = %+v, %v; want revoked or closed", i+1, c, err)
			}
		}
		if q := query(t, req.OrderNo); !cancelled(q.State) {
			t.Errorf("Query after Cancel = %+v, want revoked or closed", q)
		}
		r, err := w.Refund(ctx, channels.WalletRefundRequest{Key: next(), OrderNo: req.OrderNo, RefundNo: next().RefundNo(), Amount: 1000, Total: 3000})
		if err == nil && r.State == channels.RefundSuccess {
			t.Errorf("refund of a cancelled trade: %+v", r)
		}
		unknown := next().OrderNo()
		if c, err := w.Cancel(ctx, channels.OrderRequest{Key: next(), OrderNo: unknown}); err != nil || c.State == channels.TradeSuccess {
			t.Errorf("Cancel of an order never paid = %+v, %v", c, err)
		}
	})
	var r1 channels.WalletRefund
	var no1 string
	basetest.Step(t, "Refund", func(t *testing.T) {
		refund := func(key channels.Key, no string, amount int64) (channels.WalletRefund, error) {
			return w.Refund(ctx, channels.WalletRefundRequest{Key: key, OrderNo: reqA.OrderNo, RefundNo: no, Amount: amount, Total: 10000})
		}
		ok := func(what string, r channels.WalletRefund, err error, amount int64) {
			t.Helper()
			if err != nil || r.State != channels.RefundSuccess || r.Amount != amount || r.RefundID == "" {
				t.Fatalf("%s = %+v, %v; want success of %d fen with a refund id", what, r, err, amount)
			}
		}
		k1 := next()
		no1 = k1.RefundNo()
		var err error
		r1, err = refund(k1, no1, 4000)
		ok("refund R1 of 4000 fen", r1, err, 4000)
		again, err := refund(k1, no1, 4000)
		ok("retried refund R1", again, err, 4000)
		if again.RefundID != r1.RefundID {
			t.Errorf("retried refund R1 made refund %s, want the first one %s", again.RefundID, r1.RefundID)
		}
		k2 := next()
		r2, err := refund(k2, k2.RefundNo(), 6000)
		ok("refund R2 of the other 6000 fen", r2, err, 6000) // refused if R1 refunded twice
		k3 := next()
		if r3, err := refund(k3, k3.RefundNo(), 1); err == nil && r3.State != channels.RefundFailed {
			t.Errorf("refund beyond the total: %+v, want failed", r3)
		}
		if q := query(t, reqA.OrderNo); q.State != channels.TradeRefunded || q.Refunded != 10000 || q.Paid != 10000 {
			t.Errorf("Query after refunds = %+v, want refunded 10000 of 10000 fen", q)
		}
	})
	basetest.Step(t, "RefundQuery", func(t *testing.T) {
		r, err := w.RefundQuery(ctx, channels.RefundQueryRequest{Key: next(), OrderNo: reqA.OrderNo, RefundNo: no1})
		if err != nil || r.State != channels.RefundSuccess || r.Amount != 4000 || r.RefundID != r1.RefundID {
			t.Errorf("RefundQuery R1 = %+v, %v; want success of 4000 fen, refund %s", r, err, r1.RefundID)
		}
		unknown := next().RefundNo()
		if r, err := w.RefundQuery(ctx, channels.RefundQueryRequest{Key: next(), OrderNo: reqA.OrderNo, RefundNo: unknown}); err != nil || r.State != channels.RefundNotFound {
			t.Errorf("RefundQuery of a refund never made = %+v, %v; want not_found", r, err)
		}
	})
	basetest.Step(t, "LostAnswerThenQuery", func(t *testing.T) {
		req := newPay(h.LoseAmount)
		if tr, err := w.Pay(ctx, req); err == nil {
			t.Fatalf("pay of %d fen answered %+v, want its answer lost", req.Amount, tr)
		} else if !errors.Is(err, channels.ErrNoAnswer) {
			t.Logf("lost answer: %v (not channels.ErrNoAnswer)", err)
		}
		succeeded(t, "Query after the lost answer", query(t, req.OrderNo), req.Amount)
	})
	basetest.Step(t, "Reconcile", func(t *testing.T) {
		info, err := w.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !info.Has(channels.CapabilityReconcile) {
			t.Logf("%s does not list %s: Reconcile not checked", info.Name, channels.CapabilityReconcile)
			return
		}
		rc, ok := w.(channels.Reconciler)
		if !ok {
			t.Fatal("the wallet client has no Reconcile")
		}
		runReconcile(t, ctx, w, rc, h, code)
	})
}

// runReconcile checks Reconcile on a batch of its own (000002): two sales,
// one of them voided, a partial refund of the other, and a third sale the
// terminal "lost".
func runReconcile(t *testing.T, ctx context.Context, w channels.Wallet, rc channels.Reconciler, h WalletHarness, code func() string) {
	trace := 0
	key := func() channels.Key {
		trace++
		return channels.Key{TID: h.TID, MID: h.MID, Batch: "000002", Trace: fmt.Sprintf("%06d", trace)}
	}
	paid := func(amount int64) string {
		k := key()
		tr, err := w.Pay(ctx, channels.PayRequest{Key: k, OrderNo: k.OrderNo(), Amount: amount, AuthCode: code(), Subject: "posrt conformance"})
		if err != nil || tr.State != channels.TradeSuccess {
			t.Fatalf("pay %d fen: %+v, %v", amount, tr, err)
		}
		return k.OrderNo()
	}
	s1, s2 := paid(10000), paid(20000)
	if c, err := w.Cancel(ctx, channels.OrderRequest{Key: key(), OrderNo: s2}); err != nil || (c.State != channels.TradeRevoked && c.State != channels.TradeClosed) {
		t.Fatalf("cancel %s: %+v, %v", s2, c, err)
	}
	rk := key()
	if r, err := w.Refund(ctx, channels.WalletRefundRequest{Key: rk, OrderNo: s1, RefundNo: rk.RefundNo(), Amount: 3000, Total: 10000}); err != nil || r.State != channels.RefundSuccess {
		t.Fatalf("refund 3000 fen of %s: %+v, %v", s1, r, err)
	}
	s3 := paid(5000)
	items := []channels.ReconcileItem{
		{Kind: channels.ReconcileSale, OrderNo: s1, Amount: 10000, Booked: true},
		{Kind: channels.ReconcileSale, OrderNo: s2, Amount: 20000, Booked: true},
		{Kind: channels.ReconcileVoid, OrderNo: s2, Amount: 20000, Booked: true},
		{Kind: channels.ReconcileRefund, OrderNo: s1, RefundNo: rk.RefundNo(), Amount: 3000, Booked: true},
	}
	settleKey := key()
	reconcile := func(items []channels.ReconcileItem) channels.Reconciliation {
		t.Helper()
		var tot channels.Totals
		r, err := rc.Reconcile(ctx, channels.ReconcileRequest{Key: settleKey, Totals: tot, Items: items})
		if err != nil {
			t.Fatalf("Reconcile: %v", err)
		}
		return r
	}
	// The lost sale: unbalanced, the wallet names it.
	r := reconcile(items)
	if r.Balanced || len(r.Differences) != 1 || r.Differences[0].OrderNo != s3 || r.Differences[0].Wallet != 5000 || r.Differences[0].Terminal != 0 {
		t.Fatalf("Reconcile without the third sale = %+v, want unbalanced naming %s (5000 fen at the wallet, none at the terminal)", r, s3)
	}
	// Everything listed: balanced, the wallet's totals equal the terminal's.
	all := append(items, channels.ReconcileItem{Kind: channels.ReconcileSale, OrderNo: s3, Amount: 5000, Booked: true})
	r = reconcile(all)
	want := channels.Totals{SaleCount: 3, SaleAmount: 35000, VoidCount: 1, VoidAmount: 20000, RefundCount: 1, RefundAmount: 3000}
	got := r.HostTotals
	got.Medium = ""
	if !r.Balanced || len(r.Differences) != 0 || got != want {
		t.Fatalf("Reconcile of the whole batch = %+v, want balanced with totals %+v", r, want)
	}
	if again := reconcile(all); !again.Balanced {
		t.Fatalf("Reconcile again = %+v, want the same answer", again)
	}
	// The terminal booking another amount, or not booking a paid sale.
	wrong := append([]channels.ReconcileItem(nil), all...)
	wrong[0].Amount = 9000
	wrong[4].Booked = false
	r = reconcile(wrong)
	if r.Balanced || len(r.Differences) != 2 {
		t.Fatalf("Reconcile with one amount wrong and one paid sale unbooked = %+v, want two differences", r)
	}
	// A sale the wallet never had, listed as booked.
	ghost := key()
	r = reconcile(append(all, channels.ReconcileItem{Kind: channels.ReconcileSale, OrderNo: ghost.OrderNo(), Amount: 100, Booked: true}))
	if r.Balanced || len(r.Differences) != 1 || r.Differences[0].Wallet != 0 || r.Differences[0].Terminal != 100 {
		t.Fatalf("Reconcile with a sale the wallet never had = %+v, want it named", r)
	}
}
