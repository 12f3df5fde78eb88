package alipay

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/posrt/posrt/plugins/channels"
)

// Medium is the medium of the plugin's trades in the terminal's books.
const Medium = "alipay"

var _ channels.Reconciler = (*Alipay)(nil)

// maxSent is how many order numbers the plugin remembers; the oldest
// (with their refund numbers) are forgotten first.
const maxSent = 20000

// sent is the plugin's memory, in this process only, of the order numbers
// it sent trade.pay under and of the out_request_no of each refund it
// sent: what lets Reconcile find a paid order the terminal does not list,
// and Query sum a trade's refunds (trade.query does not carry them and no
// Alipay query lists a trade's refunds).
type sent struct {
	mu     sync.Mutex
	orders map[string][]string // order number: its refund numbers
	fifo   []string
}

// maxRefunds is how many refund numbers of one order the plugin remembers
// (Alipay takes 50 refunds of a trade by default).
const maxRefunds = 100

func (s *sent) add(no string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addLocked(no)
}

func (s *sent) addLocked(no string) {
	if s.orders == nil {
		s.orders = map[string][]string{}
	}
	if _, ok := s.orders[no]; ok {
		return
	}
	s.orders[no] = nil
	s.fifo = append(s.fifo, no)
	if len(s.fifo) > maxSent {
		delete(s.orders, s.fifo[0])
		s.fifo = s.fifo[1:]
	}
}

// addRefund remembers refund number rno of order no.
func (s *sent) addRefund(no, rno string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addLocked(no)
	rs := s.orders[no]
	if slices.Contains(rs, rno) || len(rs) >= maxRefunds {
		return
	}
	s.orders[no] = append(rs, rno)
}

// refundsOf returns the remembered refund numbers of order no.
func (s *sent) refundsOf(no string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.orders[no])
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
	out := channels.Reconciliation{HostTotals: channels.Totals{Medium: Medium}}
	trades := map[string]channels.Trade{}
	trade := func(no string) (channels.Trade, error) {
		if t, ok := trades[no]; ok {
			return t, nil
		}
		if !outNo.MatchString(no) {
			return channels.Trade{}, fmt.Errorf("%w: reconciling order %q", channels.ErrBadRequest, no)
		}
		t, err := a.Query(ctx, channels.OrderRequest{Key: req.Key, OrderNo: no})
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
			r, err := a.RefundQuery(ctx, channels.RefundQueryRequest{Key: req.Key, OrderNo: it.OrderNo, RefundNo: it.RefundNo})
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
		differ(it, wallet, "Alipay has it "+state)
	}
	for _, no := range a.sent.batch("P" + req.Key.TID + req.Key.Batch) {
		if listed[no] {
			continue
		}
		t, err := trade(no)
		if err != nil {
			return channels.Reconciliation{}, err
		}
		if paid := sold(t); paid != 0 && t.State != channels.TradeRevoked {
			count(channels.ReconcileSale, paid)
			differ(channels.ReconcileItem{Kind: channels.ReconcileSale, OrderNo: no}, paid, "paid at Alipay, not listed by the terminal")
		}
	}
	out.Balanced = len(out.Differences) == 0
	out.HostTime = cfg.now()
	return out, nil
}

// sold is what a sale of trade t counts: what the customer paid, once
// paid (refunded or cancelled since, too).
func sold(t channels.Trade) int64 {
	switch t.State {
	case channels.TradeSuccess, channels.TradeRefunded, channels.TradeRevoked:
		return t.Paid
	}
	return 0
}
