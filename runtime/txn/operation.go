package txn

import (
	"errors"
	"fmt"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/money"
)

// Operation is what a front end (the ECR API, the cashier console, a test)
// asks the runtime to do. The runtime journals it before anything else
// happens and binds it to one flow session; the flow supplies references
// only (a card read, a PIN entered, a payment code scanned), never an
// amount, and cannot start a second operation.
type Operation struct {
	Kind   journal.Kind
	Medium journal.Medium
	Amount money.Fen
	// Original names the sale a void or refund is for: its trace in the
	// current batch, or its RRN (cards) / trace in any batch.
	Original OriginalRef
	// RequestID is the caller's id: a repeat returns the first result.
	RequestID string
	Operator  string
}

// OriginalRef names an original sale.
type OriginalRef struct {
	Batch string // empty: the current batch
	Trace string
	RRN   string
}

func (o OriginalRef) isZero() bool { return o == OriginalRef{} }

// fingerprint sums up the operation's parameters, so that a request id
// repeated with other parameters is refused.
func (op Operation) fingerprint() string {
	return fmt.Sprintf("%s/%s/%d/%s/%s/%s", op.Kind, op.Medium, op.Amount, op.Original.Batch, op.Original.Trace, op.Original.RRN)
}

// Refs are what a flow hands over for the operation it is bound to.
type Refs struct {
	Card     channels.Card
	PINBlock []byte
	// PaymentCode is the code scanned from the customer's wallet.
	PaymentCode string
	// Medium is what the customer presented: card, or the wallet the
	// runtime told from the payment code. It decides a sale journaled
	// undecided; for any other it is the record's.
	Medium journal.Medium
}

// Codes of the refusals and failures the engine reports, for a cash
// register; Message is for the cashier.
const (
	CodeInvalidOperation        = "invalid_operation"
	CodeOriginalNotFound        = "original_not_found"
	CodeAlreadyVoided           = "already_voided"
	CodeNotVoidable             = "not_voidable"
	CodeVoidNotSameBatch        = "void_not_same_batch"
	CodeNotRefundable           = "not_refundable"
	CodeRefundExceedsRemaining  = "refund_exceeds_remaining"
	CodeRequestIDReused         = "request_id_reused"
	CodeReversalPending         = "reversal_pending"
	CodeReversalNotAcknowledged = "reversal_not_acknowledged"
	CodeSignInRefused           = "sign_in_refused"
	CodeNoChannel               = "no_channel"
	CodeChannelUnavailable      = "channel_unavailable"
	CodeAlreadyExecuted         = "already_executed"
	// CodeProtected: the terminal is in protection mode (a tamper switch
	// or a shock): no transaction, no sign-in, until the supervisor lifts
	// it.
	CodeProtected = "protection_mode"
	// CodeSettleFirst: the batch is full or its business day is over;
	// settle before any new money operation.
	CodeSettleFirst = "settle_first"
	// CodeSettlementInProgress: a settlement is being finished; money
	// operations wait for its batch to close.
	CodeSettlementInProgress = "settlement_in_progress"
	// CodeSettlePending: settlement refused while records are unresolved.
	CodeSettlePending = "settle_pending"
	// CodeSettleRefused: the acquirer refused the settlement; the batch
	// stays open.
	CodeSettleRefused = "settle_refused"
	// CodeSettlementUnfinished: the settlement is journaled but its batch
	// not yet closed (no answer, upload failed); it is finished later
	// under the same key, never started again.
	CodeSettlementUnfinished = "settlement_unfinished"
)

// Error is a refusal or failure with its code.
type Error struct {
	Code string
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func refuse(code string, format string, a ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, a...)}
}

// Code returns the code of err: its own if it is an *Error, the one of
// the journal refusal it wraps, or "" when it has none.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	for _, c := range []struct {
		err  error
		code string
	}{
		{journal.ErrOriginalNotFound, CodeOriginalNotFound},
		{journal.ErrAlreadyVoided, CodeAlreadyVoided},
		{journal.ErrNotVoidable, CodeNotVoidable},
		{journal.ErrVoidNotSameBatch, CodeVoidNotSameBatch},
		{journal.ErrNotRefundable, CodeNotRefundable},
		{journal.ErrRefundExceedsRemaining, CodeRefundExceedsRemaining},
		{journal.ErrRequestIDReused, CodeRequestIDReused},
		{journal.ErrInvalidIntent, CodeInvalidOperation},
		{journal.ErrSettlementActive, CodeSettlementInProgress},
		{journal.ErrPendingRecords, CodeSettlePending},
		{journal.ErrBatchFull, CodeSettleFirst},
	} {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}

// validate checks what the journal cannot: the kinds a medium takes.
func (op Operation) validate() error {
	switch {
	case !op.Kind.Valid():
		return refuse(CodeInvalidOperation, "unknown operation %q", op.Kind)
	case op.Kind == journal.KindSignIn || op.Kind == journal.KindSettle:
		return refuse(CodeInvalidOperation, "%s is not an operation a front end starts this way", op.Kind)
	case (op.Kind == journal.KindVoid || op.Kind == journal.KindRefund) && op.Original.isZero():
		return refuse(CodeInvalidOperation, "a %s needs its original: a trace or an RRN", op.Kind)
	case op.Kind != journal.KindVoid && op.Kind != journal.KindRefund && !op.Original.isZero():
		return refuse(CodeInvalidOperation, "a %s has no original", op.Kind)
	case op.Kind == journal.KindCash && op.Medium != journal.MediumCash,
		op.Kind != journal.KindCash && op.Medium == journal.MediumCash:
		return refuse(CodeInvalidOperation, "cash is taken by a cash entry only")
	case op.Kind == journal.KindSale && !op.Medium.Valid() && op.Medium != journal.MediumUndecided:
		return refuse(CodeInvalidOperation, "unknown medium %q", op.Medium)
	}
	return nil
}
