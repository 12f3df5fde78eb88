package unionpayqr

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/internal/reconcile"
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

// Reconcile implements channels.Reconciler (CapabilityReconcile) by
// reconcile.Lookup's rules: each item is looked up at the gateway (a sale
// and a void by a query of the order, with its void; a refund by a query
// of its orderId), and so is every order this plugin remembers sending
// under the batch's order numbers ("P" + TID + batch) that the request
// does not list as a sale. A sale counts what the customer paid, a voided
// one only when the request lists its void (counted apart: a sale the
// terminal reversed itself is in neither side's totals), a void the
// sale's amount once voided, a refund its amount once done. It changes
// nothing at the gateway. An order sent before a restart without
// state_file is not remembered and so not found when unlisted.
func (u *UnionPayQR) Reconcile(ctx context.Context, req channels.ReconcileRequest) (channels.Reconciliation, error) {
	cfg, mem, err := u.config()
	if err != nil {
		return channels.Reconciliation{}, err
	}
	rc := reconcile.Lookup{
		Query: func(no string) (channels.Trade, error) {
			if !orderRule.MatchString(no) {
				return channels.Trade{}, fmt.Errorf("%w: order number %q", channels.ErrBadRequest, no)
			}
			return u.query(ctx, cfg, mem, no)
		},
		Refund: func(no, rno string) (channels.WalletRefund, error) {
			return u.RefundQuery(ctx, channels.RefundQueryRequest{Key: req.Key, OrderNo: no, RefundNo: rno})
		},
		Unlisted: mem.batchOrders("P" + req.Key.TID + req.Key.Batch),
		Wallet:   "UnionPay",
	}
	out, err := rc.Run(req, Medium)
	if err != nil {
		return channels.Reconciliation{}, err
	}
	out.HostTime = cfg.now()
	return out, nil
}
