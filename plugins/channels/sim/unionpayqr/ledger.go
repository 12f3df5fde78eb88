package upqrsim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	upqr "github.com/posrt/posrt/plugins/channels/unionpayqr"
)

// Op is what a ledger entry records.
type Op string

// Ledger operations.
const (
	OpPay    Op = "pay"    // a consumption booked: paid, in process, or refused (RespCode)
	OpPaid   Op = "paid"   // a consumption in process was paid
	OpVoid   Op = "void"   // a void (消费撤销) of Orig: paid ones are refunded in full, in-process ones closed
	OpRefund Op = "refund" // a refund (退货) of Amount fen of Orig
)

// Entry is one line of the simulator's ledger, appended and synced before
// the simulator answers. A pay entry holds the payment code's SHA-256
// digest and its masked form only, never the code itself. Amounts are fen.
type Entry struct {
	Op   Op        `json:"op"`
	Time time.Time `json:"time"`

	OrderID string `json:"order_id"`
	TxnTime string `json:"txn_time,omitempty"`
	QueryID string `json:"query_id,omitempty"`
	Amount  int64  `json:"amount,omitempty"`
	// Pay: the respCode the pay left (00, 05 in process, or a refusal),
	// the queries an in-process one waits, the code's digest and mask.
	RespCode   upqr.RespCode `json:"resp_code,omitempty"`
	Polls      int           `json:"polls,omitempty"`
	CodeDigest string        `json:"code_digest,omitempty"`
	MaskedCode string        `json:"masked_code,omitempty"`
	// Void and refund: the original's orderId.
	Orig string `json:"orig,omitempty"`
}

// Valid reports whether e is a ledger entry (a line of another kind,
// or torn by a crash, is not).
func (e Entry) Valid() bool { return e.Op != "" && e.OrderID != "" }

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

type txn struct {
	kind     upqr.TxnType
	orderID  string
	txnTime  string
	queryID  string
	amount   int64
	resp     upqr.RespCode
	polls    int
	created  time.Time
	orig     *txn
	voided   bool // an original voided
	closed   bool // an original voided while in process: never paid
	refunded int64
	refunds  int
}

func (t *txn) paid() bool { return t.kind == upqr.TxnPay && t.resp == upqr.RespSuccess && !t.closed }

// state is the gateway's memory, changed only by apply of an entry
// written first.
type state struct {
	txns    map[string]*txn // by orderId
	byQuery map[string]*txn
	codes   map[string]bool // digests of the codes used
	entries []Entry
	seq     int64
}

func newState() *state {
	return &state{txns: map[string]*txn{}, byQuery: map[string]*txn{}, codes: map[string]bool{}}
}

// apply changes the state by one entry (booked now, or replayed).
func (st *state) apply(e Entry) error {
	t := st.txns[e.OrderID]
	switch e.Op {
	case OpPay, OpVoid, OpRefund:
		if t != nil {
			return fmt.Errorf("orderId %s booked twice", e.OrderID)
		}
		t = &txn{orderID: e.OrderID, txnTime: e.TxnTime, queryID: e.QueryID, amount: e.Amount, resp: e.RespCode, polls: e.Polls, created: e.Time}
		switch e.Op {
		case OpPay:
			t.kind = upqr.TxnPay
			if e.CodeDigest != "" {
				st.codes[e.CodeDigest] = true
			}
		case OpVoid, OpRefund:
			o := st.txns[e.Orig]
			if o == nil {
				return fmt.Errorf("%s %s of orderId %s never booked", e.Op, e.OrderID, e.Orig)
			}
			t.orig, t.resp = o, upqr.RespSuccess
			if e.Op == OpVoid {
				t.kind = upqr.TxnVoid
				o.voided = true
				if o.resp != upqr.RespSuccess {
					o.closed = true
				}
			} else {
				t.kind = upqr.TxnRefund
				o.refunded += e.Amount
				o.refunds++
			}
		}
		st.txns[e.OrderID] = t
		if t.queryID != "" {
			st.byQuery[t.queryID] = t
		}
	case OpPaid:
		if t == nil {
			return fmt.Errorf("orderId %s paid before it was booked", e.OrderID)
		}
		t.resp, t.polls = upqr.RespSuccess, 0
	default:
		return fmt.Errorf("unknown ledger operation %q", e.Op)
	}
	st.entries = append(st.entries, e)
	st.seq++
	return nil
}
