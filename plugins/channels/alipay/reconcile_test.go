package alipay_test

import (
	"context"
	"testing"

	"github.com/posrt/posrt/plugins/channels"
)

// Query without refund_fee: a trade refunded in full by this plugin reads
// refunded; the same trade asked by a plugin that did not refund it reads
// revoked (TRADE_CLOSED with its payment date), as a cancelled one does,
// so that the runtime never takes a trade whose money went back for a
// paid sale.
func TestQueryRefundedInFull(t *testing.T) {
	ctx := context.Background()
	sim, _ := startSim(t, nil)
	w := connect(t, sim, nil)
	tm := &terminal{}
	req := tm.pay(5000)
	if tr, err := w.Pay(ctx, req); err != nil || tr.State != channels.TradeSuccess {
		t.Fatalf("Pay = %+v, %v", tr, err)
	}
	rk := tm.key()
	if r, err := w.Refund(ctx, channels.WalletRefundRequest{Key: rk, OrderNo: req.OrderNo, RefundNo: rk.RefundNo(), Amount: 5000, Total: 5000}); err != nil || r.State != channels.RefundSuccess {
		t.Fatalf("Refund = %+v, %v", r, err)
	}
	if q, err := w.Query(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo}); err != nil || q.State != channels.TradeRefunded || q.Refunded != 5000 || q.Paid != 5000 {
		t.Errorf("Query by the refunding plugin = %+v, %v; want refunded 5000 of 5000 fen", q, err)
	}
	other := connect(t, sim, nil)
	if q, err := other.Query(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo}); err != nil || q.State != channels.TradeRevoked || q.Paid != 5000 || q.Refunded != 0 {
		t.Errorf("Query by another plugin = %+v, %v; want revoked, 5000 fen paid", q, err)
	}
	cancelled := tm.pay(4000)
	if tr, err := w.Pay(ctx, cancelled); err != nil || tr.State != channels.TradeSuccess {
		t.Fatalf("Pay = %+v, %v", tr, err)
	}
	if c, err := w.Cancel(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: cancelled.OrderNo}); err != nil || c.State != channels.TradeRevoked {
		t.Fatalf("Cancel = %+v, %v", c, err)
	}
	if q, err := w.Query(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: cancelled.OrderNo}); err != nil || q.State != channels.TradeRevoked || q.Paid != 4000 {
		t.Errorf("Query of a cancelled trade = %+v, %v; want revoked, 4000 fen paid", q, err)
	}
}

// Reconcile names a void the wallet does not have (the sale only
// refunded), a refund it never made, not a sale the terminal cancelled
// itself, and counts nothing twice.
func TestReconcileVoidAndRefundDifferences(t *testing.T) {
	ctx := context.Background()
	sim, _ := startSim(t, nil)
	w := connect(t, sim, nil)
	rc, ok := w.(channels.Reconciler)
	if !ok {
		t.Fatal("no Reconcile")
	}
	if info, err := w.Info(ctx); err != nil || !info.Has(channels.CapabilityReconcile) {
		t.Fatalf("Info = %+v, %v; want %s listed", info, err, channels.CapabilityReconcile)
	}
	tm := &terminal{}
	sale := tm.pay(6000)
	if tr, err := w.Pay(ctx, sale); err != nil || tr.State != channels.TradeSuccess {
		t.Fatalf("Pay = %+v, %v", tr, err)
	}
	rk := tm.key()
	if r, err := w.Refund(ctx, channels.WalletRefundRequest{Key: rk, OrderNo: sale.OrderNo, RefundNo: rk.RefundNo(), Amount: 6000, Total: 6000}); err != nil || r.State != channels.RefundSuccess {
		t.Fatalf("Refund = %+v, %v", r, err)
	}
	// Cancelled by the terminal itself (its sale not booked, no void) and
	// cancelled unlisted: neither is a difference nor counted.
	var cancelled []string
	for _, amount := range []int64{700, 800} {
		req := tm.pay(amount)
		if tr, err := w.Pay(ctx, req); err != nil || tr.State != channels.TradeSuccess {
			t.Fatalf("Pay = %+v, %v", tr, err)
		}
		if c, err := w.Cancel(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: req.OrderNo}); err != nil || c.State != channels.TradeRevoked {
			t.Fatalf("Cancel = %+v, %v", c, err)
		}
		cancelled = append(cancelled, req.OrderNo)
	}
	never := tm.key().RefundNo()
	items := []channels.ReconcileItem{
		{Kind: channels.ReconcileSale, OrderNo: cancelled[0], Amount: 700, Booked: false},
		{Kind: channels.ReconcileSale, OrderNo: sale.OrderNo, Amount: 6000, Booked: true},
		{Kind: channels.ReconcileVoid, OrderNo: sale.OrderNo, Amount: 6000, Booked: true},
		{Kind: channels.ReconcileRefund, OrderNo: sale.OrderNo, RefundNo: rk.RefundNo(), Amount: 6000, Booked: true},
		{Kind: channels.ReconcileRefund, OrderNo: sale.OrderNo, RefundNo: never, Amount: 100, Booked: true},
	}
	r, err := rc.Reconcile(ctx, channels.ReconcileRequest{Key: tm.key(), Items: items})
	if err != nil {
		t.Fatal(err)
	}
	want := channels.Totals{Medium: "alipay", SaleCount: 1, SaleAmount: 6000, RefundCount: 1, RefundAmount: 6000}
	if r.Balanced || len(r.Differences) != 2 || r.HostTotals != want {
		t.Fatalf("Reconcile = %+v, want two differences and totals %+v", r, want)
	}
	void, refund := r.Differences[0], r.Differences[1]
	if void.Kind != channels.ReconcileVoid || void.Terminal != 6000 || void.Wallet != 0 {
		t.Errorf("first difference %+v, want the void booked 6000 fen at the terminal, none at Alipay", void)
	}
	if refund.Kind != channels.ReconcileRefund || refund.RefundNo != never || refund.Terminal != 100 || refund.Wallet != 0 {
		t.Errorf("second difference %+v, want refund %s booked 100 fen at the terminal, none at Alipay", refund, never)
	}
	if len(sim.Ledger()) != 6 {
		t.Errorf("the ledger holds %d entries after Reconcile, want the three orders, the refund and the two cancels only", len(sim.Ledger()))
	}
}
