package journal

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/posrt/posrt/runtime/money"
)

// Key identifies a record: TID + batch + trace. It is also the operation's
// idempotency key at the host, created before the first attempt and reused
// on every retry.
type Key struct {
	TID   string `json:"tid"`
	Batch string `json:"batch"`
	Trace string `json:"trace"`
}

func (k Key) String() string { return k.TID + "/" + k.Batch + "/" + k.Trace }

// IsZero reports whether k names no record.
func (k Key) IsZero() bool { return k == Key{} }

func (k Key) dbKey() []byte { return []byte(recordPrefix + k.TID + "/" + k.Batch + "/" + k.Trace) }

const (
	recordPrefix  = "txn/"
	pendingPrefix = "pending/"
	requestPrefix = "req/"
	rrnPrefix     = "rrn/"
)

func (k Key) pendingKey() []byte {
	return []byte(pendingPrefix + k.TID + "/" + k.Batch + "/" + k.Trace)
}

func keyFromPending(b []byte) Key {
	parts := strings.SplitN(strings.TrimPrefix(string(b), pendingPrefix), "/", 3)
	if len(parts) != 3 {
		return Key{}
	}
	return Key{TID: parts[0], Batch: parts[1], Trace: parts[2]}
}

// Intent is an operation as a front end asked for it, journaled before
// anything is sent.
type Intent struct {
	TID    string
	MID    string
	Kind   Kind
	Medium Medium
	Amount money.Fen
	// Original is the sale a void or refund is for.
	Original Key
	// RequestID is the caller's id of the request; Fingerprint sums up its
	// parameters, so that the same id with other parameters is refused.
	RequestID   string
	Fingerprint string
	MaskedPAN   string
	EntryMode   string
	// PaymentCode is the customer's payment code, masked (first 4 and last
	// 4 digits): it is single use, but no bearer token is kept whole.
	PaymentCode string
	Operator    string
	// MaxBatchRecords, when above zero, refuses the intent with
	// ErrBatchFull once the current batch holds that many money records.
	MaxBatchRecords int
}

// Record is one journaled operation.
type Record struct {
	TID         string    `json:"tid"`
	MID         string    `json:"mid"`
	Batch       string    `json:"batch"`
	Trace       string    `json:"trace"`
	Kind        Kind      `json:"kind"`
	Medium      Medium    `json:"medium"`
	Amount      money.Fen `json:"amount"`
	RequestID   string    `json:"request_id,omitempty"`
	Fingerprint string    `json:"fingerprint,omitempty"`
	Operator    string    `json:"operator,omitempty"`

	// Original is the sale a void or refund is for.
	Original *Key `json:"original,omitempty"`
	// Refunded is the sum of this sale's approved refunds, RefundHeld that
	// of its refunds not yet resolved; VoidedBy is the approved void of it
	// and VoidHeld a void not yet resolved. All are updated in the same
	// commit as the void or refund record.
	Refunded   money.Fen `json:"refunded,omitempty"`
	RefundHeld money.Fen `json:"refund_held,omitempty"`
	VoidedBy   *Key      `json:"voided_by,omitempty"`
	VoidHeld   *Key      `json:"void_held,omitempty"`

	MaskedPAN   string `json:"masked_pan,omitempty"`
	EntryMode   string `json:"entry_mode,omitempty"`
	PaymentCode string `json:"payment_code,omitempty"`
	OrderNo     string `json:"order_no,omitempty"`
	RefundNo    string `json:"refund_no,omitempty"`

	State       State     `json:"state"`
	HostCode    string    `json:"host_code,omitempty"`
	HostMessage string    `json:"host_message,omitempty"`
	RRN         string    `json:"rrn,omitempty"`
	AuthCode    string    `json:"auth_code,omitempty"`
	TradeNo     string    `json:"trade_no,omitempty"`
	Paid        money.Fen `json:"paid,omitempty"` // what a wallet says the customer paid
	HostTime    time.Time `json:"host_time,omitzero"`

	// Resolution of an unknown outcome.
	ReversalReason string `json:"reversal_reason,omitempty"`
	Attempts       int    `json:"attempts,omitempty"` // reversals, queries or cancels sent
	Flagged        bool   `json:"flagged,omitempty"`  // retries exhausted: call the acquirer
	LastError      string `json:"last_error,omitempty"`
	Note           string `json:"note,omitempty"` // a supervisor's reason for a manual resolution

	ReceiptPrinted bool `json:"receipt_printed,omitempty"`
	Reprints       int  `json:"reprints,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Key returns the record's key.
func (r Record) Key() Key { return Key{TID: r.TID, Batch: r.Batch, Trace: r.Trace} }

// Remaining is what may still be refunded of a sale.
func (r Record) Remaining() money.Fen { return r.Amount - r.Refunded - r.RefundHeld }

// Change is one move of a record through the transition table, with what
// the move learnt. Zero fields leave the record's values as they are.
type Change struct {
	To          State
	HostCode    string
	HostMessage string
	RRN         string
	AuthCode    string
	TradeNo     string
	Paid        money.Fen
	HostTime    time.Time
	OrderNo     string
	RefundNo    string
	// MaskedPAN and EntryMode describe the card a flow read, when the
	// intent was journaled before the card was.
	MaskedPAN string
	EntryMode string

	ReversalReason string
	// Attempt counts one more reversal, query or cancel sent.
	Attempt   bool
	Flag      bool
	LastError string
	Note      string
}

var (
	maskedPAN   = regexp.MustCompile(`^\d{6}\*{3,9}\d{4}$`)
	maskedCode  = regexp.MustCompile(`^\d{4}\*{6,24}\d{4}$`)
	tidPattern  = regexp.MustCompile(`^[0-9A-Za-z]{8}$`)
	midPattern  = regexp.MustCompile(`^[0-9A-Za-z]{15}$`)
	requestIDRe = regexp.MustCompile(`^[0-9A-Za-z._:-]{1,64}$`)
)

// ErrInvalidIntent is wrapped by every refusal of a malformed intent.
var ErrInvalidIntent = errors.New("invalid intent")

func (in Intent) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidIntent, fmt.Sprintf(format, a...))
	}
	switch {
	case !tidPattern.MatchString(in.TID):
		return bad("TID %q must be 8 letters or digits", in.TID)
	case !midPattern.MatchString(in.MID):
		return bad("MID %q must be 15 letters or digits", in.MID)
	case !in.Kind.Valid():
		return bad("unknown kind %q", in.Kind)
	case in.Medium == MediumUndecided && in.Kind != KindSale:
		return bad("only a sale may wait for the customer to choose card or payment code; a %s names its medium", in.Kind)
	case !in.Medium.Valid() && in.Medium != MediumUndecided:
		return bad("unknown medium %q", in.Medium)
	case in.Kind.Money() && (in.Amount <= 0 || in.Amount > money.MaxAmount):
		return bad("amount must be from 1 to %d fen, got %d", money.MaxAmount, in.Amount)
	case !in.Kind.Money() && in.Amount != 0:
		return bad("a %s carries no amount", in.Kind)
	case (in.Kind == KindCash) != (in.Medium == MediumCash):
		return bad("a cash entry is the only operation in cash")
	case (in.Kind == KindVoid || in.Kind == KindRefund) && in.Original.IsZero():
		return bad("a %s needs its original", in.Kind)
	case in.Kind != KindVoid && in.Kind != KindRefund && !in.Original.IsZero():
		return bad("a %s has no original", in.Kind)
	case in.MaskedPAN != "" && !maskedPAN.MatchString(in.MaskedPAN):
		return bad("card number must be masked to first 6 / last 4 before it is journaled")
	case in.PaymentCode != "" && !maskedCode.MatchString(in.PaymentCode):
		return bad("payment code must be masked to first 4 / last 4 before it is journaled")
	case in.RequestID != "" && !requestIDRe.MatchString(in.RequestID):
		return bad("request_id %q must be 1 to 64 letters, digits or . _ : -", in.RequestID)
	}
	return nil
}

// MaskCode masks a payment code to its first 4 and last 4 digits.
func MaskCode(code string) string {
	if len(code) <= 8 {
		return strings.Repeat("*", len(code))
	}
	return code[:4] + strings.Repeat("*", len(code)-8) + code[len(code)-4:]
}
