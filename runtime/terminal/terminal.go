package terminal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/plugins/scanner"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/operator"
	"github.com/posrt/posrt/runtime/qr"
	"github.com/posrt/posrt/runtime/txn"
)

// Devices returns the current client of each device; each call may wait
// while a crashed plugin restarts. Scanner may be nil (no scanner).
type Devices struct {
	PinPad  func(context.Context) (pinpad.PinPad, error)
	Printer func(context.Context) (printer.Printer, error)
	Scanner func(context.Context) (scanner.Scanner, error)
}

// Config assembles a Terminal.
type Config struct {
	Info     txn.Terminal
	Journal  *journal.Journal
	Devices  Devices
	Channels *txn.Registry
	Flows    flow.Runner
	Policy   txn.Policy
	Now      func() time.Time
	Logf     func(format string, args ...any)
	// Sleep replaces the engine's waits between wallet polls (tests).
	Sleep func(ctx context.Context, d time.Duration) error
	// RetryEvery is how often Run retries a failed sign-in and what is
	// pending (30s); each record's own back-off decides whether it is due.
	RetryEvery time.Duration
	// Operators checks operators' and the supervisor's passwords.
	Operators *operator.Store
	// ExportDir is where a clear cache writes its export of the journal.
	ExportDir string
	// ProtectionFile holds the protection mode across restarts (empty:
	// in memory only).
	ProtectionFile string
	// Retention is how long settled records are kept (93 days); Run
	// compacts older ones away once a day. Below zero: kept for ever.
	Retention time.Duration
	// QR tells a payment code's wallet from the code ([[qr.rule]] and the
	// published formats); nil: the published formats only.
	QR *qr.Detector
	// GPIO is the terminal's pins (runtime/gpio's watcher; nil: none):
	// the drawer sensor's state, and the pins the machine lacks.
	GPIO GPIO
}

// GPIO is what the terminal reads of its GPIO pins.
type GPIO interface {
	// Drawer reports whether the cash drawer is open, and whether a
	// sensor knows.
	Drawer() (open, known bool)
	// WaitClosed waits until the drawer is closed.
	WaitClosed(ctx context.Context) error
	// Absent names the configured pins the machine does not have.
	Absent() []string
}

// Terminal runs one operation at a time, each bound to one flow session:
// a terminal has one PIN pad and one customer in front of it.
type Terminal struct {
	cfg    Config
	engine *txn.Engine
	busy   sync.Mutex

	accessMu sync.Mutex
	access   access
}

// CodeBusy is the error code of an operation refused because another one
// is running.
const CodeBusy = "busy"

// CodeJournalError is the error code of an operation the journal could not
// record (a failing disk): nothing was sent.
const CodeJournalError = "journal_error"

// The codes of a payment code refused before anything is journaled or
// sent.
const (
	// CodeInvalidAuthCode: no rule matches the code (the message names the
	// accepted formats).
	CodeInvalidAuthCode = "invalid_auth_code"
	// CodeAmbiguousAuthCode: rules of two media match the code; the
	// deployer's [[qr.rule]] entries need fixing.
	CodeAmbiguousAuthCode = "ambiguous_auth_code"
	// CodeWalletNotConfigured: the code is a wallet's this terminal has no
	// plugin for.
	CodeWalletNotConfigured = "wallet_not_configured"
)

// New assembles a terminal; it contacts nothing.
func New(cfg Config) *Terminal {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.RetryEvery == 0 {
		cfg.RetryEvery = 30 * time.Second
	}
	if cfg.Retention == 0 {
		cfg.Retention = 93 * 24 * time.Hour
	}
	if cfg.Channels == nil {
		cfg.Channels = txn.NewRegistry()
	}
	if cfg.QR == nil {
		cfg.QR = qr.Default()
	}
	t := &Terminal{cfg: cfg, engine: txn.New(cfg.Info, txn.Deps{
		Journal: cfg.Journal, Channels: cfg.Channels, PinPad: cfg.Devices.PinPad, Policy: cfg.Policy,
		Now: cfg.Now, Logf: cfg.Logf, Sleep: cfg.Sleep,
	})}
	t.loadProtection()
	return t
}

// Engine is the terminal's operation engine.
func (t *Terminal) Engine() *txn.Engine { return t.engine }

// Recover resolves whatever a previous run left pending (created, sent,
// in progress, unknown, reversal pending), per channel. Call it before
// serving a new operation; an operation also resolves its own channel's
// records first, so a record that stays pending (host down) blocks only
// its channel.
func (t *Terminal) Recover(ctx context.Context) error {
	if t.engine.Protected() {
		// No key to sign or MAC with until the supervisor lifts it; a
		// terminal that started protected erases the PIN pad's keys first.
		t.accessMu.Lock()
		due := t.access.eraseDue
		t.accessMu.Unlock()
		if due {
			if err := t.engine.Protect(ctx); err != nil {
				return fmt.Errorf("protection mode: %w", err)
			}
			t.accessMu.Lock()
			t.access.eraseDue = false
			t.accessMu.Unlock()
		}
		return nil
	}
	if !t.engine.SignedIn() {
		if err := t.engine.SignIn(ctx); err != nil {
			t.cfg.Logf("sign-in at boot failed (retried in %v and before the next card operation): %v", t.cfg.RetryEvery, err)
		}
	}
	return t.engine.ResolvePending(ctx)
}

// Run keeps the terminal online until ctx ends: it signs in and resolves
// what is pending, at once and then every Config.RetryEvery, so that a
// pending reversal goes out as soon as the host is back even if no sale
// comes to push it; with an automatic settlement time it settles the
// batch once it is due; once a day it compacts away settled records older
// than the retention. Failures are logged and retried.
func (t *Terminal) Run(ctx context.Context) {
	var compacted time.Time
	for {
		if err := t.Recover(ctx); err != nil {
			t.cfg.Logf("pending transactions not resolved yet (retried in %v and before the next operation of their channel): %v", t.cfg.RetryEvery, err)
		}
		if t.engine.SettleDue() {
			if _, err := t.Settle(ctx, "auto", nil); err != nil {
				t.cfg.Logf("automatic settlement not done yet (retried in %v): %v", t.cfg.RetryEvery, err)
			}
		}
		if now := t.cfg.Now(); t.cfg.Retention > 0 && now.Sub(compacted) > 24*time.Hour {
			compacted = now
			// Small commits of their own: a sale never waits long for it.
			if n, err := t.cfg.Journal.Compact(ctx, now.Add(-t.cfg.Retention)); err != nil {
				t.cfg.Logf("compacting the journal: %v", err)
			} else if n > 0 {
				t.cfg.Logf("compacted %d settled records older than %v from the journal", n, t.cfg.Retention)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(t.cfg.RetryEvery):
		}
	}
}

// SignIn signs the terminal in now.
func (t *Terminal) SignIn(ctx context.Context) error { return t.SignInWith(ctx, nil) }

// SignInWith signs in through the signin flow, whose txn.execute() is the
// engine's sign-in (keys checked and loaded into the PIN pad by posrt);
// ui is the front end's (nil for none).
func (t *Terminal) SignInWith(ctx context.Context, ui flow.UI) error {
	if err := t.barred(); err != nil {
		return err
	}
	h := &signInHost{t: t}
	_, flowErr := t.cfg.Flows.Run(ctx, flow.Host{UI: ui, Txn: h, Terminal: h}, "signin", map[string]any{"kind": string(journal.KindSignIn)})
	switch {
	case h.err != nil:
		return h.err
	case !h.done && flowErr == nil:
		return &flow.Error{Code: flow.CodeFlowError, Message: "the signin flow returned without signing in"}
	case !h.done:
		return flowErr
	}
	return nil // signed in; a flow failing after it changes nothing
}

// signInHost is the signin flow's host: txn.execute() signs in, once.
type signInHost struct {
	t    *Terminal
	done bool
	err  error
}

func (h *signInHost) Execute(ctx context.Context, _ flow.ExecuteArgs) (flow.TxnView, error) {
	if h.done {
		return flow.TxnView{}, &flow.Error{Code: "already_executed", Message: "signed in in this run already"}
	}
	if err := h.t.engine.SignIn(ctx); err != nil {
		h.err = err
		return flow.TxnView{}, cashierError(err)
	}
	h.done = true
	return h.Record(ctx)
}

func (h *signInHost) Record(context.Context) (flow.TxnView, error) {
	c, err := h.t.cfg.Journal.Counters()
	if err != nil {
		return flow.TxnView{}, cashierError(err)
	}
	info := h.t.cfg.Info
	return flow.TxnView{Result: flow.ResultApproved, Kind: string(journal.KindSignIn), Code: "00", Message: "signed in", TID: info.TID, MID: info.MID,
		Batch: c.Batch, Medium: string(journal.MediumCard), Time: h.t.cfg.Now().Format("2006-01-02 15:04:05")}, nil
}

func (h *signInHost) Info(context.Context) (flow.TerminalView, error) { return h.t.terminalView() }

// Request is an operation a front end asks for, with what it already
// holds: the customer's payment code, when a cash register scanned it.
type Request struct {
	Op          txn.Operation
	PaymentCode string
	// UI is the front end's, for the flow's posrt.ui: the console asks the
	// cashier, the ECR API answers from the request; nil has none.
	UI flow.UI
}

// Result is how an operation ended, for a cash register or a cashier.
type Result struct {
	Result    journal.Outcome `json:"result"`
	Kind      journal.Kind    `json:"kind"`
	Medium    journal.Medium  `json:"medium"`
	Channel   journal.Medium  `json:"channel,omitempty"` // what carried it: card, wechat, alipay, unionpay_qr; none for cash
	Code      string          `json:"code"`
	Message   string          `json:"message"`
	RequestID string          `json:"request_id,omitempty"`
	Batch     string          `json:"batch"`
	Trace     string          `json:"trace"`
	RRN       string          `json:"rrn,omitempty"`
	AuthCode  string          `json:"auth_code,omitempty"`
	Amount    int64           `json:"amount"`
	MaskedPAN string          `json:"masked_pan,omitempty"`
	OrderNo   string          `json:"order_no,omitempty"`
	TradeNo   string          `json:"trade_no,omitempty"`
	// Original is the trace of the sale a void or refund is for.
	OrigBatch       string `json:"orig_batch,omitempty"`
	OrigTrace       string `json:"orig_trace,omitempty"`
	State           string `json:"state"`
	ReceiptsPrinted int64  `json:"receipts_printed"`
	// ReceiptPrinted is the journal's note that the receipt printed (a
	// lookup sees this one; ReceiptsPrinted counts the copies of this run).
	ReceiptPrinted bool `json:"receipt_printed"`
	// Repeated marks the first result of a request id sent again.
	Repeated bool `json:"repeated,omitempty"`
	// Warning tells the cashier what went wrong after the money was
	// settled with the host (a receipt that did not print, a flow error).
	Warning string `json:"warning,omitempty"`
}

// Execute creates the operation, journals it, and runs the flow bound to
// it. An error is a refusal before anything was journaled (a *flow.Error
// with its code). Once journaled, the journaled outcome is returned,
// whatever the flow did: failed when nothing left the terminal.
func (t *Terminal) Execute(ctx context.Context, req Request) (Result, error) {
	if !t.busy.TryLock() {
		return Result{}, &flow.Error{Code: CodeBusy, Message: "the terminal is busy with another transaction; try again when it is done"}
	}
	defer t.busy.Unlock()
	if err := t.barred(); err != nil {
		return Result{}, err
	}
	op := req.Op
	if req.PaymentCode != "" {
		// Refused here, before the journal or a wallet sees it.
		m, err := t.detect(req.PaymentCode)
		if err != nil {
			return Result{}, err
		}
		if op.Medium != "" && op.Medium != m {
			return Result{}, &flow.Error{Code: txn.CodeInvalidOperation, Message: fmt.Sprintf("the payment code is a %s code, but the request names %s", m, op.Medium)}
		}
		if !slices.Contains(t.cfg.Channels.Wallets(), m) {
			return Result{}, t.noWallet(m)
		}
		op.Medium = m
	}
	if op.Kind == journal.KindSale && op.Medium == "" {
		// Whichever the customer presents first: a card on the PIN pad or
		// a payment code on the scanner (the sale is journaled undecided
		// and decided before it is sent); a terminal that can read no code
		// takes cards.
		op.Medium = journal.MediumCard
		if t.cfg.Devices.Scanner != nil && len(t.cfg.Channels.Wallets()) > 0 {
			op.Medium = journal.MediumUndecided
		}
	}
	rec, err := t.engine.Begin(ctx, op)
	var repeated *journal.RepeatedRequestError
	if errors.As(err, &repeated) {
		res := resultOf(repeated.Record, "")
		res.Repeated = true
		return res, nil
	}
	if err != nil {
		var fe *flow.Error
		if txn.Code(err) == "" && !errors.As(err, &fe) {
			// Not a refusal of the request: the journal could not take it.
			return Result{}, &flow.Error{Code: CodeJournalError, Message: "the journal could not record the transaction, so nothing was sent: " + err.Error()}
		}
		return Result{}, cashierError(err)
	}
	s := t.newSession(rec, req.PaymentCode)
	defer s.close()
	out, flowErr := t.cfg.Flows.Run(ctx, s.host(req.UI), flowOf(rec), map[string]any{
		"kind": string(rec.Kind), "medium": string(rec.Medium), "amount": int64(rec.Amount),
		"orig_trace": origTrace(rec), "request_id": rec.RequestID,
	})
	final, err := t.cfg.Journal.Get(rec.Key())
	if err != nil {
		// The journal cannot be read back (a failing disk): report what
		// the engine last had; a record whose outcome was not journaled
		// is pending, so the cashier is told the outcome is unknown.
		last, ok := s.executedRecord()
		if !ok {
			return Result{}, cashierError(err)
		}
		t.cfg.Logf("%s %s: reading the outcome back: %v", last.Kind, last.Key(), err)
		return resultOf(last, ""), nil
	}
	if final.State == journal.StateCreated {
		// The flow ended without executing: nothing left the terminal.
		why := flowErr
		if why == nil {
			why = &flow.Error{Code: flow.CodeFlowError, Message: fmt.Sprintf("the %s flow returned without executing the operation", flowOf(rec))}
		}
		if final, err = t.engine.Abandon(ctx, rec.Key(), why); err != nil {
			return Result{}, cashierError(err)
		}
		return resultOf(final, flow.AsError(why).Code), nil
	}
	res := resultOf(final, s.failureCode())
	switch {
	case flowErr != nil && final.State.Outcome() == journal.OutcomeFailed:
		fe := flow.AsError(flowErr)
		res.Code, res.Message = fe.Code, fe.Message
	case flowErr != nil && final.State.Outcome() == journal.OutcomeApproved:
		res.Warning = flow.AsError(flowErr).Message + "; the transaction stands (do not charge again): reprint its receipt"
	case flowErr != nil:
		res.Warning = flow.AsError(flowErr).Message
	default:
		if n, ok := out["receipts_printed"].(int64); ok {
			res.ReceiptsPrinted = n
		}
		if w, ok := out["print_error"].(string); ok && w != "" {
			res.Warning = "receipt not printed: " + w + "; fix the printer and reprint (the transaction stands, do not charge again)"
		}
	}
	return res, nil
}

// detect tells the wallet of a payment code, or the refusal a front end
// is given for it.
func (t *Terminal) detect(code string) (journal.Medium, error) {
	r, err := t.cfg.QR.Detect(code)
	switch {
	case errors.Is(err, qr.ErrAmbiguous):
		t.cfg.Logf("payment code refused: %v", err)
		return "", &flow.Error{Code: CodeAmbiguousAuthCode, Message: err.Error()}
	case err != nil:
		return "", &flow.Error{Code: CodeInvalidAuthCode, Message: err.Error()}
	}
	return r.Medium, nil
}

// noWallet is the refusal of a payment code of a wallet this terminal has
// no plugin for.
func (t *Terminal) noWallet(m journal.Medium) error {
	return &flow.Error{Code: CodeWalletNotConfigured, Message: fmt.Sprintf(
		"the customer's code is a %s payment code, but this terminal has no %s wallet (it takes %s): ask for another way to pay; nothing was charged",
		walletName(m), walletName(m), t.takes())}
}

// takes names what this terminal takes, for a cashier.
func (t *Terminal) takes() string {
	names := []string{"card"}
	for _, m := range t.cfg.Channels.Wallets() {
		names = append(names, walletName(m))
	}
	return strings.Join(names, ", ")
}

// walletName is a wallet's name as a cashier knows it.
func walletName(m journal.Medium) string {
	switch m {
	case journal.MediumWeChat:
		return "WeChat Pay"
	case journal.MediumAlipay:
		return "Alipay"
	case journal.MediumUnionPayQR:
		return "UnionPay QR"
	}
	return string(m)
}

func flowOf(rec journal.Record) string {
	switch {
	case rec.Kind == journal.KindSale && rec.Medium.Wallet():
		return "qr_sale"
	case rec.Kind == journal.KindSale:
		return "sale"
	}
	return string(rec.Kind)
}

func origTrace(rec journal.Record) string {
	if rec.Original == nil {
		return ""
	}
	return rec.Original.Trace
}

// Recent returns the last n operations, newest first, as a front end is
// told of them: what a cashier checks when a cash register lost its answer.
func (t *Terminal) Recent(n int) ([]Result, error) {
	recs, err := t.cfg.Journal.Recent(n)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(recs))
	for i, r := range recs {
		out[i] = resultOf(r, "")
	}
	return out, nil
}

// Lookup returns the result of the operation a cash register started with
// request id, so that one that timed out asks before it retries.
func (t *Terminal) Lookup(id string) (Result, error) {
	rec, err := t.cfg.Journal.ByRequestID(id)
	if err != nil {
		return Result{}, err
	}
	return resultOf(rec, ""), nil
}

// QueryResult is a record as the journal holds it beside what its host
// says of it.
type QueryResult struct {
	Result
	Host txn.HostView `json:"host"`
}

// Query finds the original named by ref (a trace in the current or a given
// batch, or an RRN) and asks its channel what it holds. It changes nothing
// and waits for an online exchange in progress, not for a whole operation.
func (t *Terminal) Query(ctx context.Context, ref txn.OriginalRef) (QueryResult, error) {
	key, err := t.engine.Find(ref)
	if err != nil {
		return QueryResult{}, cashierError(err)
	}
	rec, hv, err := t.engine.Query(ctx, key)
	if err != nil {
		return QueryResult{}, cashierError(err)
	}
	return QueryResult{Result: resultOf(rec, ""), Host: hv}, nil
}

// resultOf is what a front end is told of a journaled record. An outcome
// that is not an approval or a host's decline never carries the host's
// code: a reversed sale says reversed, never 00.
func resultOf(rec journal.Record, failure string) Result {
	out := rec.State.Outcome()
	res := Result{
		Result: out, Kind: rec.Kind, Medium: rec.Medium, RequestID: rec.RequestID, Batch: rec.Batch, Trace: rec.Trace,
		Amount: int64(rec.Amount), MaskedPAN: rec.MaskedPAN, OrderNo: rec.OrderNo, TradeNo: rec.TradeNo, State: string(rec.State),
		ReceiptPrinted: rec.ReceiptPrinted,
	}
	if rec.Original != nil {
		res.OrigBatch, res.OrigTrace = rec.Original.Batch, rec.Original.Trace
	}
	if rec.Medium == journal.MediumCard || rec.Medium.Wallet() {
		res.Channel = rec.Medium
	}
	noun := "the " + string(rec.Kind)
	switch out {
	case journal.OutcomeApproved:
		res.Code, res.Message, res.RRN, res.AuthCode = rec.HostCode, rec.HostMessage, rec.RRN, rec.AuthCode
		if res.Code == "" {
			res.Code = channels.CodeApproved
		}
		if res.Message == "" {
			res.Message = "approved"
		}
	case journal.OutcomeDeclined:
		res.Code, res.Message, res.RRN = rec.HostCode, rec.HostMessage, rec.RRN
		if res.Code == "" {
			res.Code, res.Message = "declined", "declined: "+rec.LastError
		}
	case journal.OutcomeFailed:
		res.Code, res.Message = failure, "nothing was sent, nothing was charged: "+rec.LastError
		if res.Code == "" {
			res.Code = "not_sent"
		}
	case journal.OutcomeReversed:
		res.Code = "reversed"
		res.Message = "no answer from the host: " + noun + " was reversed and is not charged; try again"
	default:
		res.Code = "unknown"
		res.Message = "the outcome is not known yet: it is being resolved with the host (reversal or query) before the next transaction; do not charge again"
		if rec.Flagged {
			res.Code = txn.CodeReversalNotAcknowledged
			res.Message = fmt.Sprintf("reversal not acknowledged: call the acquirer and quote terminal %s batch %s trace %s; do not charge again", rec.TID, rec.Batch, rec.Trace)
		}
	}
	return res
}

// view turns a journal record into what a flow sees.
func view(rec journal.Record, loc *time.Location) flow.TxnView {
	r := resultOf(rec, "")
	return flow.TxnView{
		Result: string(r.Result), Kind: string(rec.Kind), Code: r.Code, Message: r.Message, TID: rec.TID, MID: rec.MID,
		Batch: rec.Batch, Trace: rec.Trace, RRN: rec.RRN, AuthCode: rec.AuthCode, Amount: int64(rec.Amount),
		Medium: string(rec.Medium), MaskedPAN: rec.MaskedPAN, EntryMode: rec.EntryMode, OrigTrace: r.OrigTrace,
		OrderNo: rec.OrderNo, TradeNo: rec.TradeNo, Time: rec.UpdatedAt.In(loc).Format("2006-01-02 15:04:05"),
	}
}

// Status is the terminal's own state.
type Status struct {
	TID          string              `json:"tid"`
	MID          string              `json:"mid"`
	MerchantName string              `json:"merchant_name"`
	Batch        string              `json:"batch"`
	NextTrace    string              `json:"next_trace"`
	SignedIn     bool                `json:"signed_in"`
	Pending      int                 `json:"pending"`
	Channels     []txn.ChannelStatus `json:"channels"`
	// BatchRecords counts the batch's money records; SettleFirst says why
	// the batch must be settled before the next one; Settling names a
	// batch whose settlement is being finished.
	BatchRecords int    `json:"batch_records"`
	SettleFirst  string `json:"settle_first,omitempty"`
	Settling     string `json:"settling,omitempty"`
	// Warnings are what a deployer should fix (factory passwords).
	Warnings []string `json:"warnings,omitempty"`
	// Operator is who logged in last; Locked, a terminal locked until an
	// operator logs in; Protection, why it is in protection mode.
	Operator   string      `json:"operator,omitempty"`
	Locked     bool        `json:"locked,omitempty"`
	Protection *Protection `json:"protection,omitempty"`
	// Drawer is the cash drawer, open or closed, when a sensor says;
	// GPIOAbsent the configured pins this machine lacks.
	Drawer     string   `json:"drawer,omitempty"`
	GPIOAbsent []string `json:"gpio_absent,omitempty"`
}

// Transactions returns a page of the journal's records f selects, oldest
// first, from just past after, and the key of the next page (zero: none).
func (t *Terminal) Transactions(ctx context.Context, f journal.Filter, after journal.Key, limit int) ([]journal.Record, journal.Key, error) {
	return t.cfg.Journal.Page(ctx, f, after, limit)
}

// Summary adds up the period of the terminal's local time that holds day.
func (t *Terminal) Summary(ctx context.Context, p journal.Period, day time.Time) (journal.Summary, error) {
	return t.cfg.Journal.Summarize(ctx, p, day)
}

// Each streams the journal's records f selects, oldest first.
func (t *Terminal) Each(ctx context.Context, f journal.Filter, after journal.Key, fn func(journal.Record) error) error {
	return t.cfg.Journal.Each(ctx, f, after, fn)
}

// Location is the terminal's local time zone.
func (t *Terminal) Location() *time.Location { return t.cfg.Now().Location() }

// Status reports the terminal ids, counters and channels. It does not
// wait for an operation in flight.
func (t *Terminal) Status() (Status, error) {
	c, err := t.cfg.Journal.Counters()
	if err != nil {
		return Status{}, err
	}
	chs, err := t.engine.Channels()
	if err != nil {
		return Status{}, err
	}
	pending := 0
	for _, ch := range chs {
		pending += ch.Pending
	}
	st := Status{
		TID: t.cfg.Info.TID, MID: t.cfg.Info.MID, MerchantName: t.cfg.Info.MerchantName,
		Batch: c.Batch, NextTrace: c.NextTrace, SignedIn: t.engine.SignedIn(), Pending: pending, Channels: chs,
		BatchRecords: t.cfg.Journal.CurrentBatch().Records, SettleFirst: t.engine.SettleFirst(),
		Warnings: t.warnings(),
	}
	t.accessMu.Lock()
	st.Operator, st.Locked = string(t.access.operator.Number), t.access.locked
	t.accessMu.Unlock()
	st.Protection = t.Protection()
	if g := t.cfg.GPIO; g != nil {
		st.GPIOAbsent = g.Absent()
		if open, known := g.Drawer(); known {
			st.Drawer = map[bool]string{true: "open", false: "closed"}[open]
		}
	}
	if s, ok, err := t.cfg.Journal.ActiveSettlement(); err != nil {
		return Status{}, err
	} else if ok {
		st.Settling = s.Batch
	}
	return st, nil
}

// cashierError turns a device or engine error into a message for the
// cashier and a code for a cash register.
func cashierError(err error) error {
	var fe *flow.Error
	if errors.As(err, &fe) {
		return fe
	}
	if code := txn.Code(err); code != "" {
		return &flow.Error{Code: code, Message: err.Error()}
	}
	switch {
	case errors.Is(err, journal.ErrNotFound):
		return &flow.Error{Code: txn.CodeOriginalNotFound, Message: err.Error()}
	case errors.Is(err, pinpad.ErrCancelled):
		return &flow.Error{Code: "cancelled", Message: "cancelled by the cardholder"}
	case errors.Is(err, pinpad.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return &flow.Error{Code: "timeout", Message: "timed out waiting for the customer or a device"}
	case errors.Is(err, pinpad.ErrCardRead):
		return &flow.Error{Code: "card_read", Message: "the card could not be read: " + err.Error()}
	case errors.Is(err, pinpad.ErrNotConnected):
		return &flow.Error{Code: "no_pinpad", Message: "no PIN pad: device activation failed"}
	case errors.Is(err, txn.ErrSignInRefused):
		return &flow.Error{Code: txn.CodeSignInRefused, Message: err.Error()}
	case errors.Is(err, channels.ErrNotSignedIn):
		return &flow.Error{Code: "not_signed_in", Message: "the terminal is not signed in: sign in first"}
	case errors.Is(err, base.ErrUnavailable):
		return &flow.Error{Code: "device_unavailable", Message: fmt.Sprintf("a device or a channel is not available: %v", err)}
	case printer.IsNotReady(err), errors.Is(err, printer.ErrNoDrawer), errors.Is(err, printer.ErrBadJob):
		return &flow.Error{Code: "printer", Message: err.Error()}
	case errors.Is(err, scanner.ErrNotConnected):
		return &flow.Error{Code: "no_scanner", Message: "no scanner: " + err.Error()}
	}
	return &flow.Error{Code: "device_error", Message: fmt.Sprintf("device or host error: %v", err)}
}
