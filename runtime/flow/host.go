package flow

import (
	"context"
	"errors"
)

// Host is what one run of a flow may reach of the runtime: one small
// interface per posrt.* module, so that a capability grows on its own and
// a front end supplies only what it has. A run is bound to exactly one
// operation the front end created (its kind, medium, amount and original
// are the run's context table). Card, PIN and payment-code data stay on
// the host's side: a flow holds only references to them, valid for the
// run. A flow can neither name an amount nor start a second money
// operation: Txn.Execute runs the bound operation, once. A nil field
// makes its module's functions fail with the code "unavailable".
type Host struct {
	UI       UI       // posrt.ui
	Events   Events   // posrt.ui.wait
	PinPad   PinPad   // posrt.pinpad
	Scanner  Scanner  // posrt.scanner
	Txn      Txn      // posrt.txn
	Printer  Printer  // posrt.printer
	Terminal Terminal // posrt.terminal
	Journal  Journal  // posrt.journal
	Access   Access   // posrt.terminal's login, lock, unlock_protection, clear_cache
}

// Access is posrt.terminal's guarded steps: who works the terminal, and
// what only the supervisor may do. The runtime asks the front end for
// each password and checks it itself (the console reads it, the ECR API
// takes it from the request): no password passes through a flow.
type Access interface {
	// Login asks the front end who logs in and their password, and logs
	// them in; a locked terminal is unlocked.
	Login(ctx context.Context) (OperatorView, error)
	// Lock locks the terminal: it refuses every operation until an
	// operator logs in again.
	Lock(ctx context.Context) error
	// UnlockProtection lifts protection mode with the supervisor's
	// password; the terminal signs in afresh before its next card
	// operation (the working keys were erased).
	UnlockProtection(ctx context.Context) (TerminalView, error)
	// ClearCache exports the journal and empties it, with the
	// supervisor's password (asked once a run). An unsettled batch or
	// unresolved records refuse it with code "not_clearable" unless
	// Force.
	ClearCache(ctx context.Context, a ClearArgs) (ClearView, error)
}

// OperatorView is an operator logged in.
type OperatorView struct {
	Number string `json:"number"`
	Role   string `json:"role"`
	// FactoryPassword: the operator still has the password posrt ships.
	FactoryPassword bool `json:"factory_password,omitempty"`
}

// ClearArgs are clear_cache's arguments.
type ClearArgs struct {
	Force bool `json:"force,omitempty"`
}

// ClearView is what a clear cache did: the records exported (to Export)
// and removed; the batch and next trace it kept.
type ClearView struct {
	Records   int    `json:"records"`
	Export    string `json:"export"`
	Batch     string `json:"batch"`
	NextTrace string `json:"next_trace"`
}

// Journal is posrt.journal: the terminal's books, read only.
type Journal interface {
	// Find lists the transactions q selects, newest first.
	Find(ctx context.Context, q JournalQuery) ([]TxnView, error)
	// Summary totals a day, an ISO week or a month per medium.
	Summary(ctx context.Context, a SummaryArgs) (SummaryView, error)
}

// JournalQuery selects transactions: by trace (and batch: the current
// one when empty), RRN, kind, medium or day (2006-01-02, the terminal's
// local time); Limit bounds the list (10 when 0, at most 100).
type JournalQuery struct {
	Trace  string `json:"trace,omitempty"`
	Batch  string `json:"batch,omitempty"`
	RRN    string `json:"rrn,omitempty"`
	Kind   string `json:"kind,omitempty"`
	Medium string `json:"medium,omitempty"`
	Date   string `json:"date,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// SummaryArgs name a period: day, week or month, holding Date
// (2006-01-02; today when empty).
type SummaryArgs struct {
	Period string `json:"period"`
	Date   string `json:"date,omitempty"`
}

// SummaryView is a period's totals per medium.
type SummaryView struct {
	Period  string
	From    string // first day, 2006-01-02
	To      string // last day
	Records int
	Totals  []TotalsView
}

// PinPad is posrt.pinpad: the PIN pad with its card reader.
type PinPad interface {
	// ReadCard asks the cardholder to present a card on the PIN pad, which
	// shows the operation's amount.
	ReadCard(ctx context.Context, args ReadCardArgs) (CardView, error)
	// GetPIN asks the cardholder for the PIN of a card read in this run.
	GetPIN(ctx context.Context, args GetPINArgs) (PINView, error)
	// Display shows lines on the PIN pad's screen.
	Display(ctx context.Context, lines []string) error
}

// Scanner is posrt.scanner.
type Scanner interface {
	// ReadCode reads the customer's payment code (the one the front end
	// handed over, or else the next one the scanner reads).
	ReadCode(ctx context.Context) (CodeView, error)
}

// Txn is posrt.txn: the run's operation.
type Txn interface {
	// Execute runs the run's operation with the references given: it
	// journals, sends and resolves it, and returns the journaled outcome.
	// A second call is refused.
	Execute(ctx context.Context, args ExecuteArgs) (TxnView, error)
	// Record returns the run's transaction as the journal holds it (a
	// reprint's); nothing is sent.
	Record(ctx context.Context) (TxnView, error)
}

// Printer is posrt.printer.
type Printer interface {
	// Print prints a receipt of the run's operation; Copy names it
	// ("merchant", "cardholder"), so that a print retried after a deadline
	// comes out once.
	Print(ctx context.Context, args PrintArgs) error
}

// Terminal is posrt.terminal.
type Terminal interface {
	// Info describes the terminal and its current counters.
	Info(ctx context.Context) (TerminalView, error)
}

// UI is posrt.ui: what the flow shows the cashier and asks of them,
// through whichever front end started the operation (the ECR API answers
// from the request, the console asks the cashier, tests script it).
type UI interface {
	// Show shows a message.
	Show(ctx context.Context, m Message) error
	// Confirm asks a yes-or-no question.
	Confirm(ctx context.Context, p Prompt) (bool, error)
	// Choose asks to pick one of p.Options; it returns its index from 0.
	Choose(ctx context.Context, p Prompt) (int, error)
	// EnterAmount asks for an amount in fen (to check against the operation's,
	// never to set it).
	EnterAmount(ctx context.Context, p Prompt) (int64, error)
	// Progress shows how far a long step is.
	Progress(ctx context.Context, p Progress) error
}

// Events is posrt.ui.wait: one wait on several things at once, whichever
// comes first.
type Events interface {
	// Wait waits for what a asks for: a card presented on the PIN pad, a
	// payment code scanned (or handed over by the front end), the cancel
	// key, the timeout. The others are called off before it returns.
	Wait(ctx context.Context, a WaitArgs) (Event, error)
}

// WaitArgs say what to wait for; Timeout is in milliseconds (0: the
// run's deadline).
type WaitArgs struct {
	Card bool `json:"card,omitempty"`
	Code bool `json:"code,omitempty"`
	// DrawerClosed waits for the cash drawer to be closed (its sensor).
	DrawerClosed bool  `json:"drawer_closed,omitempty"`
	TimeoutMS    int64 `json:"timeout_ms,omitempty"`
}

// Event is what came first: Kind is card, code, drawer_closed, cancel or
// timeout, with
// the card or code when it is one of those.
type Event struct {
	Kind string   `json:"kind"`
	Card CardView `json:"card"`
	Code CodeView `json:"code"`
}

// Event kinds.
const (
	EventCard    = "card"
	EventCode    = "code"
	EventCancel  = "cancel"
	EventTimeout = "timeout"
	// EventDrawerClosed: the cash drawer is closed.
	EventDrawerClosed = "drawer_closed"
)

// Message is a text for the cashier: Level is info, warning or error.
type Message struct {
	Title string   `json:"title,omitempty"`
	Lines []string `json:"lines,omitempty"`
	Level string   `json:"level,omitempty"`
}

// Prompt is a question; Name identifies it to a front end that answers
// from its request (the ECR API's "ui" object), Options are Choose's.
type Prompt struct {
	Name    string   `json:"name"`
	Text    string   `json:"text,omitempty"`
	Options []string `json:"options,omitempty"`
}

// Progress is a step of a long task.
type Progress struct {
	Text  string `json:"text,omitempty"`
	Step  int    `json:"step,omitempty"`
	Steps int    `json:"steps,omitempty"`
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
	// Duplicate: a receipt of it printed now is a duplicate (one printed
	// before, or this run is a reprint); the runtime marks such a print
	// DUPLICATE whatever the document says.
	Duplicate bool
	// Settlement is a settlement's (Kind "settle"): its totals and
	// reconciliations.
	Settlement SettlementView
}

// SettlementView is a batch's settlement as a flow sees it.
type SettlementView struct {
	Batch     string
	NextBatch string
	Balanced  bool
	Uploaded  int
	Records   int
	ClosedAt  string // local time, 2006-01-02 15:04:05
	Reprints  int
	Totals    []TotalsView
	Wallets   []WalletCheckView
}

// TotalsView are one medium's totals in a settlement, in fen.
type TotalsView struct {
	Medium       string
	SaleCount    int
	SaleAmount   int64
	VoidCount    int
	VoidAmount   int64
	RefundCount  int
	RefundAmount int64
	Net          int64
}

// WalletCheckView is a wallet's reconciliation of the batch.
type WalletCheckView struct {
	Medium      string
	Checked     bool
	Balanced    bool
	Reason      string
	Differences []WalletDiffView
}

// WalletDiffView is one order a wallet books otherwise than the terminal.
type WalletDiffView struct {
	Kind     string
	OrderNo  string
	RefundNo string
	Terminal int64
	Wallet   int64
}

// TerminalView describes the terminal.
type TerminalView struct {
	TID          string
	MID          string
	MerchantName string
	Batch        string
	NextTrace    string
	// Operator is who is logged in ("" for none); Locked, a terminal
	// locked until an operator logs in.
	Operator string
	Locked   bool
	// Protected is why the terminal is in protection mode ("" when not).
	Protected string
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
