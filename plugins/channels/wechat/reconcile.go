package wechat

import (
	"context"
	"fmt"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/internal/reconcile"
)

// Medium is the medium of the plugin's trades in the terminal's books.
const Medium = "wechat"

var _ channels.Reconciler = (*WeChat)(nil)

// Reconcile implements channels.Reconciler (CapabilityReconcile): each
// item is looked up at the gateway, a sale and a void by orderquery of
// its order, a refund by refundquery of its out_refund_no; and so is
// every order this process sent micropay under the batch's order numbers
// ("P" + TID + batch) that the request does not list as a sale, a
// difference when it is paid and not reversed. A sale counts what the
// customer paid; a reversed one only when the request lists its void
// (counted apart), since a sale the terminal reversed itself is in
// neither side's totals. A void counts the sale's amount once WeChat has
// it REVOKED, a refund its amount once SUCCESS. It sends only queries:
// nothing changes at WeChat. An order sent before a restart is not
// remembered and so not found when unlisted.
func (w *WeChat) Reconcile(ctx context.Context, req channels.ReconcileRequest) (channels.Reconciliation, error) {
	if _, err := w.config(); err != nil {
		return channels.Reconciliation{}, err
	}
	rc := reconcile.Lookup{
		Query: func(no string) (channels.Trade, error) {
			if !outNo.MatchString(no) {
				return channels.Trade{}, fmt.Errorf("%w: order number %q", channels.ErrBadRequest, no)
			}
			return w.Query(ctx, channels.OrderRequest{Key: req.Key, OrderNo: no})
		},
		Refund: func(no, rno string) (channels.WalletRefund, error) {
			return w.RefundQuery(ctx, channels.RefundQueryRequest{Key: req.Key, OrderNo: no, RefundNo: rno})
		},
		Unlisted: w.sent.Batch("P" + req.Key.TID + req.Key.Batch),
		Wallet:   "WeChat",
	}
	out, err := rc.Run(req, Medium)
	if err != nil {
		return channels.Reconciliation{}, err
	}
	out.HostTime = time.Now()
	return out, nil
}
