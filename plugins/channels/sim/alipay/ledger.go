package alisim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/posrt/posrt/plugins/channels/alipay"
)

// Op is what a ledger entry records.
type Op string

// Ledger operations.
const (
	OpOrder  Op = "order"  // trade.pay booked an order (paid, waiting for the buyer, or refused)
	OpPaid   Op = "paid"   // a waiting order was paid
	OpCancel Op = "cancel" // an order was cancelled (refunded in full if paid, else closed); or an unknown number barred
	OpRefund Op = "refund" // a refund was made
)

// Entry is one line of the simulator's ledger, appended and synced before
// the simulator answers. An order entry holds the payment code's SHA-256
// digest and its masked form only, never the code itself. Amounts are fen.
type Entry struct {
	Op   Op        `json:"op"`
	Time time.Time `json:"time"`

	OutTradeNo string `json:"out_trade_no"`
	TradeNo    string `json:"trade_no,omitempty"`
	Amount     int64  `json:"amount,omitempty"`
	// Order: the status trade.pay left (TRADE_SUCCESS, WAIT_BUYER_PAY,
	// TRADE_CLOSED for a refused one), the sub_code of a refused one, the
	// queries a waiting one waits, the digest of its content (amount and
	// code) and the masked code.
	Status     alipay.TradeStatus `json:"status,omitempty"`
	SubCode    alipay.SubCode     `json:"sub_code,omitempty"`
	Polls      int                `json:"polls,omitempty"`
	Content    string             `json:"content,omitempty"`
	CodeDigest string             `json:"code_digest,omitempty"`
	MaskedCode string             `json:"masked_code,omitempty"`
	// Refund.
	OutRequestNo string `json:"out_request_no,omitempty"`
}

// Valid reports whether e is a ledger entry (a line of another kind,
// or torn by a crash, is not).
func (e Entry) Valid() bool { return e.Op != "" && e.OutTradeNo != "" }

func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

type order struct {
	no, tradeNo   string
	amount        int64
	status        alipay.TradeStatus
	subCode       alipay.SubCode
	polls         int
	content       string
	created, paid time.Time
	cancelled     bool
	refunds       []*refund
	refunded      int64
	unknown       bool // barred by a cancel before any order came
}

type refund struct {
	no     string
	amount int64
	at     time.Time
}

// state is the gateway's memory, changed only by apply of an entry
// written first.
type state struct {
	orders  map[string]*order
	codes   map[string]bool // digests of the codes used
	entries []Entry
	seq     int64
}

func newState() *state { return &state{orders: map[string]*order{}, codes: map[string]bool{}} }

// byTradeNo is the order Alipay numbered tradeNo, nil if none.
func (st *state) byTradeNo(tradeNo string) *order {
	for _, o := range st.orders {
		if o.tradeNo == tradeNo && !o.unknown {
			return o
		}
	}
	return nil
}

func (o *order) refund(no string) *refund {
	for _, r := range o.refunds {
		if r.no == no {
			return r
		}
	}
	return nil
}

// apply changes the state by one entry (booked now, or replayed).
func (st *state) apply(e Entry) error {
	st.entries = append(st.entries, e)
	st.seq++
	o := st.orders[e.OutTradeNo]
	switch e.Op {
	case OpOrder:
		if o != nil {
			return fmt.Errorf("order %s booked twice", e.OutTradeNo)
		}
		o = &order{no: e.OutTradeNo, tradeNo: e.TradeNo, amount: e.Amount, status: e.Status, subCode: e.SubCode, polls: e.Polls, content: e.Content, created: e.Time}
		if e.Status == alipay.StatusTradeSuccess {
			o.paid = e.Time
		}
		st.orders[e.OutTradeNo] = o
		if e.CodeDigest != "" {
			st.codes[e.CodeDigest] = true
		}
	case OpPaid:
		if o == nil {
			return fmt.Errorf("order %s paid before it was booked", e.OutTradeNo)
		}
		o.status, o.paid, o.polls = alipay.StatusTradeSuccess, e.Time, 0
	case OpCancel:
		if o == nil {
			st.orders[e.OutTradeNo] = &order{no: e.OutTradeNo, unknown: true, status: alipay.StatusTradeClosed, cancelled: true, created: e.Time}
			return nil
		}
		o.status, o.cancelled = alipay.StatusTradeClosed, true
	case OpRefund:
		if o == nil {
			return fmt.Errorf("refund %s of order %s never booked", e.OutRequestNo, e.OutTradeNo)
		}
		o.refunds = append(o.refunds, &refund{no: e.OutRequestNo, amount: e.Amount, at: e.Time})
		o.refunded += e.Amount
		if o.refunded >= o.amount {
			o.status = alipay.StatusTradeClosed
		}
	default:
		return fmt.Errorf("unknown ledger operation %q", e.Op)
	}
	return nil
}
