package walletfake

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/internal/ledger"
)

// Ledger operations, the Op of an Entry.
const (
	OpPay    = "pay"    // an order and its first answer
	OpPaid   = "paid"   // a user-paying order completes
	OpCancel = "cancel" // an order cancelled (or a never-seen order number closed)
	OpRefund = "refund" // a successful refund
)

// Entry is one line of the fake wallet's ledger, appended and synced before
// the wallet answers. The payment code is kept only as its SHA-256 digest.
type Entry struct {
	Op   string    `json:"op"`
	Time time.Time `json:"time"`

	TID   string `json:"tid,omitempty"`
	MID   string `json:"mid,omitempty"`
	Batch string `json:"batch,omitempty"`
	Trace string `json:"trace,omitempty"`

	OrderNo  string              `json:"order_no"`
	TradeNo  string              `json:"trade_no,omitempty"`
	Seq      int64               `json:"seq,omitempty"`
	Amount   int64               `json:"amount,omitempty"`
	CodeHash string              `json:"auth_code_sha256,omitempty"`
	State    channels.TradeState `json:"state,omitempty"`
	Code     string              `json:"code,omitempty"`
	Message  string              `json:"message,omitempty"`

	RefundNo string `json:"refund_no,omitempty"`
	RefundID string `json:"refund_id,omitempty"`
}

func codeHash(code string) string {
	h := sha256.Sum256([]byte(code))
	return hex.EncodeToString(h[:])
}

// order is what the wallet remembers of one order number: no subject, no
// payment code, no history, just what later answers need.
type order struct {
	tradeNo   string
	amount    int64
	codeHash  string
	state     channels.TradeState // success, user_paying, not_paid, revoked or closed
	code      string
	message   string
	created   time.Time
	paid      int64
	refunded  int64
	refundNos []string // its refunds' numbers, oldest first
	unknown   bool     // closed by a Cancel before any pay arrived
	polls     int      // queries while user_paying; not kept across restarts
}

type refund struct {
	orderNo  string
	refundID string
	amount   int64
	time     time.Time
}

// state is the wallet's memory, rebuilt from the ledger by apply alone
// (and evict, which only forgets). With a window it holds the orders
// created within it, their refunds and their payment-code digests; the
// numbers of the orders and refunds it forgot are kept in evicted, a
// fixed-size filter, so that a number it does not hold is looked up in the
// ledger only if it may have been forgotten.
type state struct {
	orders  map[string]*order // order number -> order
	codes   map[string]string // payment code digest -> order number
	refunds map[string]*refund
	seq     int64

	window  time.Duration // 0: hold everything
	queue   []queued      // the orders held, oldest first
	evicted bloom         // nil until the first eviction
}

// queued is one order in the eviction queue.
type queued struct {
	no string
	o  *order
}

func newState() *state {
	return &state{orders: map[string]*order{}, codes: map[string]string{}, refunds: map[string]*refund{}}
}

// held is how many orders and refunds the state holds.
func (st *state) held() int { return len(st.orders) + len(st.refunds) }

func (st *state) hold(no string, o *order) {
	st.orders[no] = o
	st.queue = append(st.queue, queued{no, o})
}

// forgotten reports whether an order or refund number the state does not
// hold may have been evicted (or is a false positive of the filter): only
// then is it worth reading the ledger for it.
func (st *state) forgotten(key string) bool { return st.evicted.has(key) }

func orderKey(no string) string  { return "o:" + no }
func refundKey(no string) string { return "r:" + no }

// evict forgets the orders created before now minus the window, with
// their refunds and payment-code digests, oldest first: its cost is one
// step per order forgotten. It never runs inside apply, so that an
// operation that found an order held keeps it held until it answers.
func (st *state) evict(now time.Time) {
	if st.window <= 0 {
		return
	}
	cutoff := now.Add(-st.window)
	n := 0
	for n < len(st.queue) && st.queue[n].o.created.Before(cutoff) {
		q := st.queue[n]
		st.queue[n] = queued{}
		n++
		if st.orders[q.no] != q.o {
			continue
		}
		if st.evicted == nil {
			st.evicted = newBloom()
		}
		delete(st.orders, q.no)
		st.evicted.add(orderKey(q.no))
		for _, r := range q.o.refundNos {
			delete(st.refunds, r)
			st.evicted.add(refundKey(r))
		}
		if q.o.codeHash != "" && st.codes[q.o.codeHash] == q.no {
			delete(st.codes, q.o.codeHash)
		}
	}
	st.queue = st.queue[n:]
}

// apply changes the state by one ledger entry. An entry of an order the
// state no longer holds (completion, cancel, refund of an evicted order)
// changes nothing held, except that a refund's number joins the evicted
// filter: the ledger is where such an order is found again.
func (st *state) apply(e Entry) error {
	if e.Seq > st.seq {
		st.seq = e.Seq
	}
	o := st.orders[e.OrderNo]
	gone := o == nil && st.forgotten(orderKey(e.OrderNo))
	switch e.Op {
	case OpPay:
		if o != nil {
			return fmt.Errorf("order %s booked twice", e.OrderNo)
		}
		o = &order{
			tradeNo: e.TradeNo, amount: e.Amount, codeHash: e.CodeHash, state: e.State,
			code: e.Code, message: e.Message, created: e.Time,
		}
		if e.State == channels.TradeSuccess {
			o.paid = e.Amount
		}
		st.hold(e.OrderNo, o)
		st.codes[e.CodeHash] = e.OrderNo
	case OpPaid:
		if gone {
			return nil
		}
		if o == nil {
			return fmt.Errorf("completion of unknown order %s", e.OrderNo)
		}
		o.state, o.paid, o.code, o.message = channels.TradeSuccess, o.amount, "", ""
	case OpCancel:
		if gone {
			return nil
		}
		if o == nil {
			st.hold(e.OrderNo, &order{state: e.State, created: e.Time, unknown: true})
			return nil
		}
		o.state, o.code, o.message = e.State, "", ""
	case OpRefund:
		if gone {
			st.evicted.add(refundKey(e.RefundNo))
			return nil
		}
		if o == nil {
			return fmt.Errorf("refund %s of unknown order %s", e.RefundNo, e.OrderNo)
		}
		if _, dup := st.refunds[e.RefundNo]; dup {
			return fmt.Errorf("refund %s booked twice", e.RefundNo)
		}
		st.refunds[e.RefundNo] = &refund{orderNo: e.OrderNo, refundID: e.RefundID, amount: e.Amount, time: e.Time}
		o.refunded += e.Amount
		o.refundNos = append(o.refundNos, e.RefundNo)
	default:
		return fmt.Errorf("unknown ledger operation %q", e.Op)
	}
	return nil
}

// ReadLedger reads a ledger file, ignoring a torn last line.
func ReadLedger(path string) ([]Entry, error) {
	return ledger.Read(path, validEntry)
}

// validEntry tells a ledger line from garbage.
func validEntry(e Entry) bool { return e.Op != "" }
