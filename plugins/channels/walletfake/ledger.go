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
	tradeNo  string
	amount   int64
	codeHash string
	state    channels.TradeState // success, user_paying, not_paid, revoked or closed
	code     string
	message  string
	created  time.Time
	paid     int64
	refunded int64
	refunds  int
	unknown  bool // closed by a Cancel before any pay arrived
	polls    int  // queries while user_paying; not kept across restarts
}

type refund struct {
	orderNo  string
	refundID string
	amount   int64
	time     time.Time
}

// state is the wallet's memory, rebuilt from the ledger by apply alone.
type state struct {
	orders  map[string]*order // order number -> order
	codes   map[string]string // payment code digest -> order number
	refunds map[string]*refund
	seq     int64
}

func newState() *state {
	return &state{orders: map[string]*order{}, codes: map[string]string{}, refunds: map[string]*refund{}}
}

func (st *state) apply(e Entry) error {
	if e.Seq > st.seq {
		st.seq = e.Seq
	}
	o := st.orders[e.OrderNo]
	switch e.Op {
	case OpPay:
		if o != nil {
			return fmt.Errorf("order %s booked twice", e.OrderNo)
		}
		st.orders[e.OrderNo] = &order{
			tradeNo: e.TradeNo, amount: e.Amount, codeHash: e.CodeHash, state: e.State,
			code: e.Code, message: e.Message, created: e.Time,
		}
		if e.State == channels.TradeSuccess {
			st.orders[e.OrderNo].paid = e.Amount
		}
		st.codes[e.CodeHash] = e.OrderNo
	case OpPaid:
		if o == nil {
			return fmt.Errorf("completion of unknown order %s", e.OrderNo)
		}
		o.state, o.paid, o.code, o.message = channels.TradeSuccess, o.amount, "", ""
	case OpCancel:
		if o == nil {
			st.orders[e.OrderNo] = &order{state: e.State, created: e.Time, unknown: true}
			return nil
		}
		o.state, o.code, o.message = e.State, "", ""
	case OpRefund:
		if o == nil {
			return fmt.Errorf("refund %s of unknown order %s", e.RefundNo, e.OrderNo)
		}
		if _, dup := st.refunds[e.RefundNo]; dup {
			return fmt.Errorf("refund %s booked twice", e.RefundNo)
		}
		st.refunds[e.RefundNo] = &refund{orderNo: e.OrderNo, refundID: e.RefundID, amount: e.Amount, time: e.Time}
		o.refunded += e.Amount
		o.refunds++
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
