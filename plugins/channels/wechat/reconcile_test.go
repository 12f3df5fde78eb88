package wechat_test

import (
	"context"
	"testing"

	"github.com/posrt/posrt/plugins/channels"
)

// Reconcile names a void the wallet does not have (the sale only
// refunded in part), a refund it never made, counts a reversed sale and
// its void, not a sale the terminal reversed itself, and books nothing
// at WeChat.
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
	pay := func(amount int64) string {
		req := tm.pay(amount)
		if tr, err := w.Pay(ctx, req); err != nil || tr.State != channels.TradeSuccess {
			t.Fatalf("Pay = %+v, %v", tr, err)
		}
		return req.OrderNo
	}
	sale, reversed := pay(6000), pay(1500)
	rk := tm.key()
	if r, err := w.Refund(ctx, channels.WalletRefundRequest{Key: rk, OrderNo: sale, RefundNo: rk.RefundNo(), Amount: 2000, Total: 6000}); err != nil || r.State != channels.RefundSuccess {
		t.Fatalf("Refund = %+v, %v", r, err)
	}
	if c, err := w.Cancel(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: reversed}); err != nil || c.State != channels.TradeRevoked {
		t.Fatalf("Cancel = %+v, %v", c, err)
	}
	// Reversed by the terminal itself (its sale not booked, no void) and
	// reversed unlisted: neither is a difference nor counted.
	self, lost := pay(700), pay(800)
	for _, no := range []string{self, lost} {
		if c, err := w.Cancel(ctx, channels.OrderRequest{Key: tm.key(), OrderNo: no}); err != nil || c.State != channels.TradeRevoked {
			t.Fatalf("Cancel = %+v, %v", c, err)
		}
	}
	never := tm.key().RefundNo()
	items := []channels.ReconcileItem{
		{Kind: channels.ReconcileSale, OrderNo: self, Amount: 700, Booked: false},
		{Kind: channels.ReconcileSale, OrderNo: sale, Amount: 6000, Booked: true},
		{Kind: channels.ReconcileVoid, OrderNo: sale, Amount: 6000, Booked: true},
		{Kind: channels.ReconcileRefund, OrderNo: sale, RefundNo: rk.RefundNo(), Amount: 2000, Booked: true},
		{Kind: channels.ReconcileRefund, OrderNo: sale, RefundNo: never, Amount: 100, Booked: true},
		{Kind: channels.ReconcileSale, OrderNo: reversed, Amount: 1500, Booked: true},
		{Kind: channels.ReconcileVoid, OrderNo: reversed, Amount: 1500, Booked: true},
	}
	booked := len(sim.Ledger())
	r, err := rc.Reconcile(ctx, channels.ReconcileRequest{Key: tm.key(), Items: items})
	if err != nil {
		t.Fatal(err)
	}
	want := channels.Totals{Medium: "wechat", SaleCount: 2, SaleAmount: 7500, VoidCount: 1, VoidAmount: 1500, RefundCount: 1, RefundAmount: 2000}
	if r.Balanced || len(r.Differences) != 2 || r.HostTotals != want {
		t.Fatalf("Reconcile = %+v, want two differences and totals %+v", r, want)
	}
	void, refund := r.Differences[0], r.Differences[1]
	if void.Kind != channels.ReconcileVoid || void.OrderNo != sale || void.Terminal != 6000 || void.Wallet != 0 {
		t.Errorf("first difference %+v, want the void of %s booked 6000 fen at the terminal, none at WeChat", void, sale)
	}
	if refund.Kind != channels.ReconcileRefund || refund.RefundNo != never || refund.Terminal != 100 || refund.Wallet != 0 {
		t.Errorf("second difference %+v, want refund %s booked 100 fen at the terminal, none at WeChat", refund, never)
	}
	if n := len(sim.Ledger()); n != booked {
		t.Errorf("Reconcile booked %d ledger entries, want none", n-booked)
	}
}
