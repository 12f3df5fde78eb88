package wxsim

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/posrt/posrt/plugins/channels/wechat"
)

// Op is what a ledger entry records.
type Op string

// Ledger operations.
const (
	OpOrder   Op = "order"   // micropay booked an order (paid, user paying or refused)
	OpPaid    Op = "paid"    // a user-paying order was paid
	OpReverse Op = "reverse" // an order was reversed (refunded in full if paid, else closed); or an unknown number barred
	OpRefund  Op = "refund"  // a refund was made
)

// Entry is one line of the simulator's ledger, appended and synced before
// the simulator answers. An order entry holds the payment code's SHA-256
// digest and its masked form only, never the code itself.
type Entry struct {
	Op   Op        `json:"op"`
	Time time.Time `json:"time"`

	MchID         string `json:"mch_id"`
	OutTradeNo    string `json:"out_trade_no"`
	TransactionID string `json:"transaction_id,omitempty"`
	Amount        int64  `json:"amount,omitempty"`
	// Order: the state micropay left (SUCCESS, USERPAYING, PAYERROR), the
	// err_code of a refused one, the queries a user-paying one waits, the
	// digest of its content (amount and code) and the masked code.
	State      wechat.Code `json:"state,omitempty"`
	ErrCode    wechat.Code `json:"err_code,omitempty"`
	Polls      int         `json:"polls,omitempty"`
	Content    string      `json:"content,omitempty"`
	CodeDigest string      `json:"code_digest,omitempty"`
	MaskedCode string      `json:"masked_code,omitempty"`
	// Refund.
	OutRefundNo string `json:"out_refund_no,omitempty"`
	RefundID    string `json:"refund_id,omitempty"`
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
