package flow

import (
	"context"
	"errors"

	"github.com/posrt/posrt/plugins/printer"
)

// HostAPI is everything a flow may ask of the runtime, for one run of one
// flow. Card and PIN data stay on the host's side: a flow holds only
// references to them, valid for the run.
type HostAPI interface {
	// ReadCard asks the cardholder to present a card on the PIN pad.
	ReadCard(ctx context.Context, args ReadCardArgs) (CardView, error)
	// GetPIN asks the cardholder for the PIN of a card read in this run.
	GetPIN(ctx context.Context, args GetPINArgs) (PINView, error)
	// Display shows lines on the PIN pad's screen.
	Display(ctx context.Context, lines []string) error
	// Sale journals and authorizes a card sale.
	Sale(ctx context.Context, args SaleArgs) (TxnView, error)
	// Print prints a receipt.
	Print(ctx context.Context, doc printer.Document) error
	// Terminal describes the terminal and its current counters.
	Terminal(ctx context.Context) (TerminalView, error)
}

// ReadCardArgs are read_card's arguments.
type ReadCardArgs struct {
	Amount     int64
	EntryModes []string
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
	Amount  int64
}

// PINView is an entered PIN as a flow sees it: a reference only.
type PINView struct {
	Ref string
}

// SaleArgs are txn.sale's arguments.
type SaleArgs struct {
	Amount  int64
	CardRef string
	PINRef  string
}

// Transaction results.
const (
	ResultApproved = "approved"
	ResultDeclined = "declined"
	ResultUnknown  = "unknown"
	ResultReversed = "reversed"
)

// TxnView is a transaction's outcome as a flow sees it.
type TxnView struct {
	Result    string
	Code      string
	Message   string
	TID       string
	MID       string
	Batch     string
	Trace     string
	RRN       string
	AuthCode  string
	Amount    int64
	Channel   string
	MaskedPAN string
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
