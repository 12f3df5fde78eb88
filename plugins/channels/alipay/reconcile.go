package alipay

import (
	"context"
	"fmt"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/internal/reconcile"
)

// Medium is the medium of the plugin's trades in the terminal's books.
const Medium = "alipay"

var _ channels.Reconciler = (*Alipay)(nil)

// Reconcile implements channels.Reconciler (CapabilityReconcile): each
// item is looked up at the gateway, a sale and a void by trade.query of
// its order (with the fastpay.refund.query of the refunds this process
// sent for it, see Query), a refund by fastpay.refund.query of its
// out_request_no; and so is every order this process sent trade.pay
// under the batch's order numbers ("P" + TID + batch) that the request
// does not list as a sale, a difference when it is paid and not
// cancelled. A sale counts what the customer paid; a cancelled one only
// when the request lists its void (counted apart), since a sale the
// terminal reversed itself is in neither side's totals. A void counts
// the sale's amount once Query has it revoked, a refund its amount once
// REFUND_SUCCESS. It sends only queries: nothing changes at Alipay. An
// order sent before a restart is not remembered and so not found when
// unlisted.
func (a *Alipay) Reconcile(ctx context.Context, req channels.ReconcileRequest) (channels.Reconciliation, error) {
	cfg, err := a.config()
	if err != nil {
		return channels.Reconciliation{}, err
	}
	rc := reconcile.Lookup{
		Query: func(no string) (channels.Trade, error) {
			if !outNo.MatchString(no) {
				return channels.Trade{}, fmt.Errorf("%w: order number %q", channels.ErrBadRequest, no)
			}
			return a.Query(ctx, channels.OrderRequest{Key: req.Key, OrderNo: no})
		},
		Refund: func(no, rno string) (channels.WalletRefund, error) {
			return a.RefundQuery(ctx, channels.RefundQueryRequest{Key: req.Key, OrderNo: no, RefundNo: rno})
		},
		Unlisted: a.sent.Batch("P" + req.Key.TID + req.Key.Batch),
		Wallet:   "Alipay",
	}
	out, err := rc.Run(req, Medium)
	if err != nil {
		return channels.Reconciliation{}, err
	}
	out.HostTime = cfg.now()
	return out, nil
}
