package reconcile

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/posrt/posrt/plugins/channels"
)

// MaxOrders is how many order numbers Orders remembers; the oldest (with
// their refund numbers) are forgotten first. MaxRefunds is how many refund
// numbers of one order it remembers (the wallets take 50 refunds of a
// trade by default).
const (
	MaxOrders  = 20000
	MaxRefunds = 100
)

// Orders is a plugin's memory, in its process only, of the order numbers
// it sent a pay under and of the refund numbers it sent for each: what
// lets Run find a paid order the terminal does not list. The zero Orders
// is empty and ready; it is safe for concurrent use.
type Orders struct {
	mu     sync.Mutex
	orders map[string][]string // order number: its refund numbers
	fifo   []string
}

// Add remembers order number no.
func (o *Orders) Add(no string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.addLocked(no)
}

func (o *Orders) addLocked(no string) {
	if o.orders == nil {
		o.orders = map[string][]string{}
	}
	if _, ok := o.orders[no]; ok {
		return
	}
	o.orders[no] = nil
	o.fifo = append(o.fifo, no)
	if len(o.fifo) > MaxOrders {
		delete(o.orders, o.fifo[0])
		o.fifo = o.fifo[1:]
	}
}

// AddRefund remembers refund number rno of order no.
func (o *Orders) AddRefund(no, rno string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.addLocked(no)
	rs := o.orders[no]
	if slices.Contains(rs, rno) || len(rs) >= MaxRefunds {
		return
	}
	o.orders[no] = append(rs, rno)
}

// RefundsOf returns the remembered refund numbers of order no.
func (o *Orders) RefundsOf(no string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.orders[no])
}

// Batch returns the remembered order numbers starting with prefix, sorted.
func (o *Orders) Batch(prefix string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for no := range o.orders {
		if strings.HasPrefix(no, prefix) {
			out = append(out, no)
		}
	}
	slices.Sort(out)
	return out
}

// Lookup is how one batch is checked at a wallet: Query answers an
// order's trade, Refund one refund of an order; Unlisted are the batch's
// order numbers the plugin sent; Wallet names the wallet in the reasons.
type Lookup struct {
	Query    func(no string) (channels.Trade, error)
	Refund   func(no, rno string) (channels.WalletRefund, error)
	Unlisted []string
	Wallet   string
}

// Run checks the batch req of medium: each item is looked up, a sale and
// a void by its order's trade, a refund by the refund; and so is every
// Unlisted order the request does not list as a sale, a difference when
// it is paid and not cancelled. A sale counts what the customer paid; a
// cancelled one only when the request lists its void (counted apart),
// since a sale the terminal reversed itself is in neither side's totals.
// A void counts the sale's amount once the trade is revoked, a refund its
// amount once it succeeded. Balanced says there is no difference.
func (rc Lookup) Run(req channels.ReconcileRequest, medium string) (channels.Reconciliation, error) {
	out := channels.Reconciliation{HostTotals: channels.Totals{Medium: medium}}
	trades := map[string]channels.Trade{}
	trade := func(no string) (channels.Trade, error) {
		if t, ok := trades[no]; ok {
			return t, nil
		}
		t, err := rc.Query(no)
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
				if wallet = Sold(t); t.State == channels.TradeRevoked && !voided[it.OrderNo] {
					// Cancelled with no void listed: the terminal's own
					// reversal of a sale it does not count.
					wallet = 0
				}
			} else if t.State == channels.TradeRevoked {
				wallet = t.Paid
			}
		case channels.ReconcileRefund:
			r, err := rc.Refund(it.OrderNo, it.RefundNo)
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
		differ(it, wallet, rc.Wallet+" has it "+state)
	}
	for _, no := range rc.Unlisted {
		if listed[no] {
			continue
		}
		t, err := trade(no)
		if err != nil {
			return channels.Reconciliation{}, err
		}
		if paid := Sold(t); paid != 0 && t.State != channels.TradeRevoked {
			count(channels.ReconcileSale, paid)
			differ(channels.ReconcileItem{Kind: channels.ReconcileSale, OrderNo: no}, paid, "paid at "+rc.Wallet+", not listed by the terminal")
		}
	}
	out.Balanced = len(out.Differences) == 0
	return out, nil
}

// Sold is what a sale of trade t counts: what the customer paid, once
// paid (refunded or reversed since, too).
func Sold(t channels.Trade) int64 {
	switch t.State {
	case channels.TradeSuccess, channels.TradeRefunded, channels.TradeRevoked:
		return t.Paid
	}
	return 0
}
