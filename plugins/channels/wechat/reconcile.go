package wechat

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/channels"
)

// Medium is the medium of the plugin's trades in the terminal's books.
const Medium = "wechat"

var _ channels.Reconciler = (*WeChat)(nil)

// maxSent is how many order numbers the plugin remembers; the oldest are
// forgotten first.
const maxSent = 20000

// sent is the plugin's memory, in this process only, of the order numbers
// it sent micropay under: what lets Reconcile find a paid order the
// terminal does not list.
type sent struct {
	mu     sync.Mutex
	orders map[string]bool
	fifo   []string
}

func (s *sent) add(no string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.orders == nil {
		s.orders = map[string]bool{}
	}
	if s.orders[no] {
		return
	}
	s.orders[no] = true
	s.fifo = append(s.fifo, no)
	if len(s.fifo) > maxSent {
		delete(s.orders, s.fifo[0])
		s.fifo = s.fifo[1:]
	}
}

// batch returns the remembered order numbers of prefix, sorted.
func (s *sent) batch(prefix string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for no := range s.orders {
		if strings.HasPrefix(no, prefix) {
			out = append(out, no)
		}
	}
	slices.Sort(out)
	return out
}

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
	rc := reconciler{
		query: func(no string) (channels.Trade, error) {
			if !outNo.MatchString(no) {
				return channels.Trade{}, fmt.Errorf("%w: order number %q", channels.ErrBadRequest, no)
			}
			return w.Query(ctx, channels.OrderRequest{Key: req.Key, OrderNo: no})
		},
		refund: func(no, rno string) (channels.WalletRefund, error) {
			return w.RefundQuery(ctx, channels.RefundQueryRequest{Key: req.Key, OrderNo: no, RefundNo: rno})
		},
		unlisted: w.sent.batch("P" + req.Key.TID + req.Key.Batch),
		wallet:   "WeChat",
	}
	out, err := rc.run(req, Medium)
	if err != nil {
		return channels.Reconciliation{}, err
	}
	out.HostTime = time.Now()
	return out, nil
}

// reconciler checks one batch by queries: query answers an order's
// trade, refund one refund; unlisted are the batch's order numbers the
// plugin sent.
type reconciler struct {
	query    func(no string) (channels.Trade, error)
	refund   func(no, rno string) (channels.WalletRefund, error)
	unlisted []string
	wallet   string
}

func (rc reconciler) run(req channels.ReconcileRequest, medium string) (channels.Reconciliation, error) {
	out := channels.Reconciliation{HostTotals: channels.Totals{Medium: medium}}
	trades := map[string]channels.Trade{}
	trade := func(no string) (channels.Trade, error) {
		if t, ok := trades[no]; ok {
			return t, nil
		}
		t, err := rc.query(no)
		if err != nil {
			return channels.Trade{}, fmt.Errorf("reconciling order %s: %w", no, err)
		}
		trades[no] = t
		return t, nil
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
	listed, voided := map[string]bool{}, map[string]bool{}
	for _, it := range req.Items {
		if it.Kind == channels.ReconcileVoid {
			voided[it.OrderNo] = true
		}
	}
	for _, it := range req.Items {
		var wallet int64
		var state string
		switch it.Kind {
		case channels.ReconcileSale, channels.ReconcileVoid:
			t, err := trade(it.OrderNo)
			if err != nil {
				return channels.Reconciliation{}, err
			}
			state = string(t.State)
			if it.Kind == channels.ReconcileSale {
				listed[it.OrderNo] = true
				if wallet = sold(t); t.State == channels.TradeRevoked && !voided[it.OrderNo] {
					// Cancelled with no void listed: the terminal's own
					// reversal of a sale it does not count.
					wallet = 0
				}
			} else if t.State == channels.TradeRevoked {
				wallet = t.Paid
			}
		case channels.ReconcileRefund:
			r, err := rc.refund(it.OrderNo, it.RefundNo)
			if err != nil {
				return channels.Reconciliation{}, fmt.Errorf("reconciling: %w", err)
			}
			state = string(r.State)
			if r.State == channels.RefundSuccess {
				wallet = r.Amount
			}
		default:
			return channels.Reconciliation{}, fmt.Errorf("%w: reconciling an item of kind %q", channels.ErrBadRequest, it.Kind)
		}
		count(it.Kind, wallet)
		differ(it, wallet, rc.wallet+" has it "+state)
	}
	for _, no := range rc.unlisted {
		if listed[no] {
			continue
		}
		t, err := trade(no)
		if err != nil {
			return channels.Reconciliation{}, err
		}
		if paid := sold(t); paid != 0 && t.State != channels.TradeRevoked {
			count(channels.ReconcileSale, paid)
			differ(channels.ReconcileItem{Kind: channels.ReconcileSale, OrderNo: no}, paid, "paid at "+rc.wallet+", not listed by the terminal")
		}
	}
	out.Balanced = len(out.Differences) == 0
	return out, nil
}

// sold is what a sale of trade t counts: what the customer paid, once
// paid (refunded or reversed since, too).
func sold(t channels.Trade) int64 {
	switch t.State {
	case channels.TradeSuccess, channels.TradeRefunded, channels.TradeRevoked:
		return t.Paid
	}
	return 0
}
