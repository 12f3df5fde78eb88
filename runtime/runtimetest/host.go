package runtimetest

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/runtime/flow"
)

// Host implements every module of a flow.Host (Modules), records every
// call and answers from its fields; its UI is scripted. The zero value reads a UnionPay debit card, takes its PIN or a
// WeChat Pay code, approves the operation (Amount fen, 1234 when zero)
// and prints every receipt. Like the runtime's session it executes its
// operation once and refuses a second Execute.
type Host struct {
	mu sync.Mutex
	// Calls lists the calls in order, e.g. "read_card 1234".
	Calls []string
	// Printed holds the documents printed.
	Printed []printer.Document
	// Displayed holds every display call's lines.
	Displayed [][]string

	// Answers; an error field set makes that call fail with it.
	CardErr, PINErr, CodeErr, ExecuteErr, PrintErr error
	// Result is the outcome; empty means approved.
	Result string
	// Kind, Medium and Amount describe the bound operation (sale, card,
	// 1234 fen by default).
	Kind, Medium string
	Amount       int64
	executed     int

	// The scripted UI: answers by prompt name (Confirm answers false and
	// Choose the first option when not scripted; Amount fails); Shown
	// holds the messages shown.
	Confirms map[string]bool
	Choices  map[string]int
	Amounts  map[string]int64
	Shown    []flow.Message
	// WaitEvent is what Wait answers first.
	WaitEvent string
	// Settlement is what a settlement (Kind "settle") answers.
	Settlement flow.SettlementView
	// Found and Summarized are what the journal's Find and Summary answer.
	Found      []flow.TxnView
	Summarized flow.SummaryView

	// Access: Operator is who logs in (cashier 01 when empty); LoginErr,
	// UnlockErr fail those calls; NotClearable refuses a clear cache
	// without force as not_clearable; Protected is the terminal's
	// protection until UnlockProtection lifts it; Locked is set by Lock
	// and cleared by Login.
	Operator             flow.OperatorView
	LoginErr, UnlockErr  error
	NotClearable, Locked bool
	Protected            string
}

// Modules is the flow.Host whose every module is h.
func (h *Host) Modules() flow.Host {
	return flow.Host{UI: h, Events: h, PinPad: h, Scanner: h, Txn: h, Printer: h, Terminal: h, Journal: h, Access: h}
}

// Find implements flow.Journal: Found, at most q.Limit of them.
func (h *Host) Find(_ context.Context, q flow.JournalQuery) ([]flow.TxnView, error) {
	h.record("find trace=%s date=%s limit=%d", q.Trace, q.Date, q.Limit)
	if q.Limit > 0 && len(h.Found) > q.Limit {
		return h.Found[:q.Limit], nil
	}
	return h.Found, nil
}

// Summary implements flow.Journal: Summarized, for the period asked.
func (h *Host) Summary(_ context.Context, a flow.SummaryArgs) (flow.SummaryView, error) {
	h.record("summary %s %s", a.Period, a.Date)
	s := h.Summarized
	s.Period = a.Period
	return s, nil
}

// Wait implements flow.Events: WaitEvent ("card" when empty, "code",
// "cancel" or "timeout") comes first.
func (h *Host) Wait(ctx context.Context, a flow.WaitArgs) (flow.Event, error) {
	h.record("wait card=%t code=%t", a.Card, a.Code)
	switch kind := h.WaitEvent; {
	case kind == "code" || kind == "" && !a.Card && a.Code:
		c, err := h.ReadCode(ctx)
		return flow.Event{Kind: flow.EventCode, Code: c}, err
	case kind == "" || kind == "card":
		c, err := h.ReadCard(ctx, flow.ReadCardArgs{})
		return flow.Event{Kind: flow.EventCard, Card: c}, err
	default:
		return flow.Event{Kind: kind}, nil
	}
}

// Show implements flow.UI.
func (h *Host) Show(_ context.Context, m flow.Message) error {
	h.record("show %s %s", m.Level, m.Title)
	h.mu.Lock()
	h.Shown = append(h.Shown, m)
	h.mu.Unlock()
	return nil
}

// Confirm implements flow.UI.
func (h *Host) Confirm(_ context.Context, p flow.Prompt) (bool, error) {
	h.record("confirm %s", p.Name)
	return h.Confirms[p.Name], nil
}

// Choose implements flow.UI.
func (h *Host) Choose(_ context.Context, p flow.Prompt) (int, error) {
	h.record("choose %s", p.Name)
	return h.Choices[p.Name], nil
}

// EnterAmount implements flow.UI.
func (h *Host) EnterAmount(_ context.Context, p flow.Prompt) (int64, error) {
	h.record("amount %s", p.Name)
	if a, ok := h.Amounts[p.Name]; ok {
		return a, nil
	}
	return 0, &flow.Error{Code: "cancelled", Message: "no amount entered for " + p.Name}
}

// Progress implements flow.UI.
func (h *Host) Progress(_ context.Context, p flow.Progress) error {
	h.record("progress %d/%d %s", p.Step, p.Steps, p.Text)
	return nil
}

func (h *Host) record(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.Calls = append(h.Calls, fmt.Sprintf(format, args...))
}

// ReadCard implements its flow module.
func (h *Host) ReadCard(_ context.Context, a flow.ReadCardArgs) (flow.CardView, error) {
	h.record("read_card")
	if h.CardErr != nil {
		return flow.CardView{}, h.CardErr
	}
	return flow.CardView{Ref: "card-1", MaskedPAN: "622202******0128", Expiry: "3012", EntryMode: "insert"}, nil
}

// GetPIN implements its flow module.
func (h *Host) GetPIN(_ context.Context, a flow.GetPINArgs) (flow.PINView, error) {
	h.record("get_pin %s", a.CardRef)
	if h.PINErr != nil {
		return flow.PINView{}, h.PINErr
	}
	return flow.PINView{Ref: "pin-1"}, nil
}

// Display implements its flow module.
func (h *Host) Display(_ context.Context, lines []string) error {
	h.record("display %s", strings.Join(lines, " | "))
	h.mu.Lock()
	h.Displayed = append(h.Displayed, lines)
	h.mu.Unlock()
	return nil
}

// ReadCode implements its flow module.
func (h *Host) ReadCode(context.Context) (flow.CodeView, error) {
	h.record("read_code")
	if h.CodeErr != nil {
		return flow.CodeView{}, h.CodeErr
	}
	return flow.CodeView{Ref: "code-1", Medium: "wechat"}, nil
}

// Execute implements its flow module.
func (h *Host) Execute(_ context.Context, a flow.ExecuteArgs) (flow.TxnView, error) {
	h.record("execute %s %s %s", a.CardRef, a.PINRef, a.CodeRef)
	h.mu.Lock()
	h.executed++
	n := h.executed
	h.mu.Unlock()
	if n > 1 {
		return flow.TxnView{}, &flow.Error{Code: "already_executed", Message: "this transaction was already executed"}
	}
	if h.ExecuteErr != nil {
		return flow.TxnView{}, h.ExecuteErr
	}
	return h.view(), nil
}

// view is the transaction the host's Execute and Record answer with.
func (h *Host) view() flow.TxnView {
	kind, medium, amount := h.Kind, h.Medium, h.Amount
	if kind == "" {
		kind = "sale"
	}
	if medium == "" {
		medium = "card"
	}
	if amount == 0 {
		amount = 1234
	}
	v := flow.TxnView{
		Result: flow.ResultApproved, Kind: kind, Code: "00", Message: "approved", TID: "12345678", MID: "123456789012345",
		Batch: "000001", Trace: "000001", RRN: "000000000001", AuthCode: "A00001",
		Amount: amount, Medium: medium, MaskedPAN: "622202******0128", EntryMode: "insert", Time: "2026-11-23 10:00:00",
		OrigTrace: "000007", OrderNo: "P12345678000001000001", TradeNo: "4200000001",
	}
	if h.Result != "" && h.Result != flow.ResultApproved {
		v.Result, v.Code, v.Message, v.RRN, v.AuthCode = h.Result, "51", "insufficient funds", "", ""
	}
	if kind == "settle" {
		v.Settlement = h.Settlement
	}
	return v
}

// Record implements its flow module: the same transaction Execute answers.
func (h *Host) Record(context.Context) (flow.TxnView, error) {
	h.record("record")
	return h.view(), nil
}

// Print implements its flow module.
func (h *Host) Print(_ context.Context, a flow.PrintArgs) error {
	doc := a.Document.Printer()
	h.record("print %s %d lines", a.Copy, len(doc.Lines))
	if h.PrintErr != nil {
		return h.PrintErr
	}
	h.mu.Lock()
	h.Printed = append(h.Printed, doc)
	h.mu.Unlock()
	return nil
}

// Info implements flow.Terminal.
func (h *Host) Info(context.Context) (flow.TerminalView, error) {
	h.record("terminal")
	return h.info(), nil
}

func (h *Host) info() flow.TerminalView {
	h.mu.Lock()
	defer h.mu.Unlock()
	return flow.TerminalView{TID: "12345678", MID: "123456789012345", MerchantName: "POSRT TEST SHOP", Batch: "000001", NextTrace: "000001",
		Operator: h.Operator.Number, Locked: h.Locked, Protected: h.Protected}
}

// Login implements flow.Access: Operator logs in.
func (h *Host) Login(context.Context) (flow.OperatorView, error) {
	h.record("login")
	if h.LoginErr != nil {
		return flow.OperatorView{}, h.LoginErr
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.Operator.Number == "" {
		h.Operator = flow.OperatorView{Number: "01", Role: "cashier"}
	}
	h.Locked = false
	return h.Operator, nil
}

// Lock implements flow.Access.
func (h *Host) Lock(context.Context) error {
	h.record("lock")
	h.mu.Lock()
	defer h.mu.Unlock()
	h.Locked = true
	return nil
}

// UnlockProtection implements flow.Access.
func (h *Host) UnlockProtection(context.Context) (flow.TerminalView, error) {
	h.record("unlock_protection")
	if h.UnlockErr != nil {
		return flow.TerminalView{}, h.UnlockErr
	}
	h.mu.Lock()
	h.Protected = ""
	h.mu.Unlock()
	return h.info(), nil
}

// ClearCache implements flow.Access: 7 records exported.
func (h *Host) ClearCache(_ context.Context, a flow.ClearArgs) (flow.ClearView, error) {
	h.record("clear_cache force=%t", a.Force)
	if h.NotClearable && !a.Force {
		return flow.ClearView{}, &flow.Error{Code: "not_clearable", Message: "batch 000001 is not settled"}
	}
	return flow.ClearView{Records: 7, Export: "exports/journal-20261123.csv", Batch: "000001", NextTrace: "000008"}, nil
}
