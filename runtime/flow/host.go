package flow

import (
	"context"
	"errors"
)

// HostAPI is everything a flow may ask of the runtime, for one run of one
// flow, which is bound to exactly one operation the front end created
// (its kind, medium, amount and original are the run's context table).
// Card, PIN and payment-code data stay on the host's side: a flow holds
// only references to them, valid for the run. A flow can neither name an
// amount nor start a second money operation: Execute runs the bound
// operation, once.
type HostAPI interface {
	// ReadCard asks the cardholder to present a card on the PIN pad, which
	// shows the operation's amount.
	ReadCard(ctx context.Context, args ReadCardArgs) (CardView, error)
	// GetPIN asks the cardholder for the PIN of a card read in this run.
	GetPIN(ctx context.Context, args GetPINArgs) (PINView, error)
	// ReadCode reads the customer's payment code (the one the front end
	// handed over, or else the next one the scanner reads).
	ReadCode(ctx context.Context) (CodeView, error)
	// Display shows lines on the PIN pad's screen.
	Display(ctx context.Context, lines []string) error
	// Execute runs the run's operation with the references given: it
	// journals, sends and resolves it, and returns the journaled outcome.
	// A second call is refused.
	Execute(ctx context.Context, args ExecuteArgs) (TxnView, error)
	// Print prints a receipt of the run's operation; Copy names it
	// ("merchant", "cardholder"), so that a print retried after a deadline
	// comes out once.
	Print(ctx context.Context, args PrintArgs) error
	// Terminal describes the terminal and its current counters.
	Terminal(ctx context.Context) (TerminalView, error)
	// Record returns the run's transaction as the journal holds it (a
	// reprint's); nothing is sent.
	Record(ctx context.Context) (TxnView, error)
}

// ReadCardArgs are read_card's arguments.
type ReadCardArgs struct {
	EntryModes []string
}

// CodeView is a payment code as a flow sees it: a reference and the wallet
// the code belongs to.
type CodeView struct {
	Ref    string
	Medium string
}

// ExecuteArgs are txn.execute's arguments: references from this run.
type ExecuteArgs struct {
	CardRef string
	PINRef  string
	CodeRef string
}

// PrintArgs are printer.print's arguments.
type PrintArgs struct {
	Copy     string
	Document Document
}

// CardView is a card as a flow sees it.
type CardView struct {
	Ref       string
	MaskedPAN string
	Expiry    string
	EntryMode string
}

// GetPINArgs are get_pin's arguments.
type GetPINArgs struct {
	CardRef string
}

// PINView is an entered PIN as a flow sees it: a reference only.
type PINView struct {
	Ref string
}

// Transaction results (journal.Outcome values).
const (
	ResultApproved = "approved"
	ResultDeclined = "declined"
	ResultFailed   = "failed"
	ResultUnknown  = "unknown"
	ResultReversed = "reversed"
)

// TxnView is a transaction's outcome as a flow sees it.
type TxnView struct {
	Result    string
	Kind      string
	Code      string
	Message   string
	TID       string
	MID       string
	Batch     string
	Trace     string
	RRN       string
	AuthCode  string
	Amount    int64
	Medium    string
	MaskedPAN string
	// OrigTrace is the trace of the sale a void or refund is for.
	OrigTrace string
	OrderNo   string
	TradeNo   string
	EntryMode string
	Time      string // local time, 2006-01-02 15:04:05
}

// TerminalView describes the terminal.
type TerminalView struct {
	TID          string
	MID          string
	MerchantName string
	Batch        string
	NextTrace    string
}

// Error is an expected failure, shown to the cashier as Message and to a
// cash register as Code. A flow receives it as nil, {code=..., message=...}.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// AsError returns err as an *Error, wrapping an unexpected error under the
// code "error".
func AsError(err error) *Error {
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	return &Error{Code: "error", Message: err.Error()}
}

// CodeFlowError is the code of a flow that failed (a Lua error, its
// deadline or its memory limit overrun, its worker gone) rather than
// returned an expected failure.
const CodeFlowError = "flow_error"
