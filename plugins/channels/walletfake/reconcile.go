package walletfake

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/posrt/posrt/plugins/channels"
)

var _ channels.Reconciler = (*Fake)(nil)

// Reconcile implements channels.Reconciler: every item is looked up in the
// wallet's books (memory, or the ledger for one it forgot), and so is every
// order it holds under the batch's order numbers ("P" + TID + batch) that
// the terminal did not list. A sale is booked at the wallet once paid
// (whatever happened to it since), a void once the paid order was
// cancelled, a refund once made.
func (f *Fake) Reconcile(ctx context.Context, req channels.ReconcileRequest) (channels.Reconciliation, error) {
	if err := f.faults.Call(ctx); err != nil {
		return channels.Reconciliation{}, err
	}
	if req.Key.TID == "" || req.Key.Batch == "" {
		return channels.Reconciliation{}, fmt.Errorf("%w: reconciling needs the terminal and batch", channels.ErrBadRequest)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.evict(f.now())
	out := channels.Reconciliation{Balanced: true, HostTotals: channels.Totals{Medium: req.Totals.Medium}, HostTime: f.now()}
	listed, voided := map[string]bool{}, map[string]bool{}
	for _, it := range req.Items {
		if it.Kind == channels.ReconcileVoid {
			voided[it.OrderNo] = true
		}
	}
	for _, it := range req.Items {
		var booked int64
		var err error
		switch it.Kind {
		case channels.ReconcileSale, channels.ReconcileVoid:
			listed[it.OrderNo] = true
			booked, err = f.bookedOrder(it.Kind, it.OrderNo, voided[it.OrderNo])
		case channels.ReconcileRefund:
			booked, err = f.bookedRefund(it.OrderNo, it.RefundNo)
		default:
			return channels.Reconciliation{}, fmt.Errorf("%w: unknown item kind %q", channels.ErrBadRequest, it.Kind)
		}
		if err != nil {
			return channels.Reconciliation{}, fmt.Errorf("reconciling %s %s: %w", it.Kind, it.OrderNo, err)
		}
		addBooked(&out.HostTotals, it.Kind, booked)
		terminal := int64(0)
		if it.Booked {
			terminal = it.Amount
		}
		if terminal != booked {
			out.Balanced = false
			out.Differences = append(out.Differences, channels.ReconcileDifference{Kind: it.Kind, OrderNo: it.OrderNo, RefundNo: it.RefundNo,
				Terminal: terminal, Wallet: booked, Reason: differenceReason(terminal, booked)})
		}
	}
	// Orders of the batch the terminal did not list.
	prefix := channels.Key{TID: req.Key.TID, Batch: req.Key.Batch}.OrderNo()
	var missing []string
	for no, o := range f.st.orders {
		if strings.HasPrefix(no, prefix) && !listed[no] && !o.unknown && o.paid > 0 && !cancelled(o) {
			missing = append(missing, no)
		}
	}
	sort.Strings(missing)
	for _, no := range missing {
		o := f.st.orders[no]
		addBooked(&out.HostTotals, channels.ReconcileSale, o.amount)
		out.Balanced = false
		out.Differences = append(out.Differences, channels.ReconcileDifference{Kind: channels.ReconcileSale, OrderNo: no, Wallet: o.amount,
			Reason: "paid at the wallet; not in the terminal's batch"})
	}
	return out, nil
}

// bookedOrder is what the wallet booked of a sale or of its void. A sale
// is booked once paid; a paid order cancelled is the void's when the
// terminal lists one (voided), else a reversal: then neither is booked,
// as the terminal counts a reversed sale nowhere.
func (f *Fake) bookedOrder(kind channels.ReconcileKind, no string, voided bool) (int64, error) {
	o, _, err := f.find(no)
	if err != nil || o == nil || o.unknown || o.paid == 0 {
		return 0, err
	}
	revoked := cancelled(o)
	switch {
	case kind == channels.ReconcileVoid && !revoked:
		return 0, nil
	case kind == channels.ReconcileSale && revoked && !voided:
		return 0, nil
	}
	return o.amount, nil
}

func (f *Fake) bookedRefund(orderNo, refundNo string) (int64, error) {
	r, err := f.findRefund(refundNo)
	if err != nil || r == nil || r.orderNo != orderNo {
		return 0, err
	}
	return r.amount, nil
}

func differenceReason(terminal, wallet int64) string {
	switch {
	case wallet == 0:
		return "booked by the terminal; the wallet has not booked it"
	case terminal == 0:
		return "booked at the wallet; the terminal has not booked it"
	}
	return "the wallet booked another amount"
}

// addBooked counts an amount the wallet booked in t.
func addBooked(t *channels.Totals, kind channels.ReconcileKind, amount int64) {
	if amount == 0 {
		return
	}
	switch kind {
	case channels.ReconcileSale:
		t.SaleCount++
		t.SaleAmount += amount
	case channels.ReconcileVoid:
		t.VoidCount++
		t.VoidAmount += amount
	case channels.ReconcileRefund:
		t.RefundCount++
		t.RefundAmount += amount
	}
}

// cancelled reports whether o, paid, was cancelled since (revoked, or
// closed in a wallet that calls it so).
func cancelled(o *order) bool {
	return o.state == channels.TradeRevoked || o.state == channels.TradeClosed
}
