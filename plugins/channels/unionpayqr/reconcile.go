package unionpayqr

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/posrt/posrt/plugins/channels"
)

var _ channels.Reconciler = (*UnionPayQR)(nil)

// batchOrders returns the order numbers the plugin remembers whose
// number is of the batch prefix, sorted.
func (m *memory) batchOrders(prefix string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for no, o := range m.orders {
		if strings.HasPrefix(no, prefix) && !o.barred {
			out = append(out, no)
		}
	}
	slices.Sort(out)
	return out
}

// Reconcile implements channels.Reconciler (CapabilityReconcile): each
// item is looked up at the gateway (a sale and a void by a query of the
// order, with its void; a refund by a query of its orderId), and so is
// every order this plugin remembers sending under the batch's order
// numbers ("P" + TID + batch) that the request does not list as a sale.
// A sale counts what the customer paid (a voided sale too: its void is
// counted apart), a void the sale's amount once voided, a refund its
// amount once done. It changes nothing at the gateway. An order sent
// before a restart without state_file is not remembered and so not
// found when unlisted.
func (u *UnionPayQR) Reconcile(ctx context.Context, req channels.ReconcileRequest) (channels.Reconciliation, error) {
	cfg, mem, err := u.config()
	if err != nil {
		return channels.Reconciliation{}, err
	}
	out := channels.Reconciliation{HostTotals: channels.Totals{Medium: Medium}}
	trades := map[string]channels.Trade{}
	trade := func(no string) (channels.Trade, error) {
		if t, ok := trades[no]; ok {
			return t, nil
		}
		if !orderRule.MatchString(no) {
			return channels.Trade{}, fmt.Errorf("%w: reconciling order %q", channels.ErrBadRequest, no)
		}
		t, err := u.query(ctx, cfg, mem, no)
		if err != nil {
			return channels.Trade{}, fmt.Errorf("reconciling order %s: %w", no, err)
		}
		trades[no] = t
		return t, nil
	}
	sold := func(t channels.Trade) int64 {
		switch t.State {
		case channels.TradeSuccess, channels.TradeRefunded, channels.TradeRevoked:
			return t.Paid
		}
		return 0
	}
	count := func(kind channels.ReconcileKind, amount int64) {
		if amount == 0 {
			return
		}
		h := &out.HostTotals
		switch kind {
		case channels.ReconcileSale:
			h.SaleCount, h.SaleAmount = h.SaleCount+1, h.SaleAmount+amount
		case channels.ReconcileVoid:
			h.VoidCount, h.VoidAmount = h.VoidCount+1, h.VoidAmount+amount
		case channels.ReconcileRefund:
			h.RefundCount, h.RefundAmount = h.RefundCount+1, h.RefundAmount+amount
		}
	}
	differ := func(it channels.ReconcileItem, wallet int64, reason string) {
		terminal := int64(0)
		if it.Booked {
			terminal = it.Amount
		}
		if terminal != wallet {
			out.Differences = append(out.Differences, channels.ReconcileDifference{Kind: it.Kind, OrderNo: it.OrderNo, RefundNo: it.RefundNo, Terminal: terminal, Wallet: wallet, Reason: reason})
		}
	}
	listed := map[string]bool{}
	for _, it := range req.Items {
		var wallet int64
		var reason string
		switch it.Kind {
		case channels.ReconcileSale, channels.ReconcileVoid:
			t, err := trade(it.OrderNo)
			if err != nil {
				return channels.Reconciliation{}, err
			}
			reason = string(t.State)
			if it.Kind == channels.ReconcileSale {
				listed[it.OrderNo] = true
				wallet = sold(t)
			} else if t.State == channels.TradeRevoked {
				wallet = t.Paid
			}
		case channels.ReconcileRefund:
			r, err := u.RefundQuery(ctx, channels.RefundQueryRequest{Key: req.Key, OrderNo: it.OrderNo, RefundNo: it.RefundNo})
			if err != nil {
				return channels.Reconciliation{}, fmt.Errorf("reconciling: %w", err)
			}
			reason = string(r.State)
			if r.State == channels.RefundSuccess {
				wallet = r.Amount
			}
		default:
			return channels.Reconciliation{}, fmt.Errorf("%w: reconciling an item of kind %q", channels.ErrBadRequest, it.Kind)
		}
		count(it.Kind, wallet)
		differ(it, wallet, "the gateway has it "+reason)
	}
	for _, no := range mem.batchOrders("P" + req.Key.TID + req.Key.Batch) {
		if listed[no] {
			continue
		}
		t, err := trade(no)
		if err != nil {
			return channels.Reconciliation{}, err
		}
		if w := sold(t); w != 0 {
			count(channels.ReconcileSale, w)
			differ(channels.ReconcileItem{Kind: channels.ReconcileSale, OrderNo: no}, w, "paid at the gateway, not listed by the terminal")
		}
	}
	out.Balanced = len(out.Differences) == 0
	out.HostTime = cfg.now()
	return out, nil
}
