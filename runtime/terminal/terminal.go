package terminal

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/money"
	"github.com/posrt/posrt/runtime/txn"
)

// Devices returns the current client of each device; each call may wait
// while a crashed plugin restarts.
type Devices struct {
	PinPad  func(context.Context) (pinpad.PinPad, error)
	Printer func(context.Context) (printer.Printer, error)
	Channel func(context.Context) (channels.Acquirer, error)
}

// Config assembles a Terminal.
type Config struct {
	Info    txn.Terminal
	Journal *journal.Journal
	Devices Devices
	Flows   *flow.Engine
	Now     func() time.Time
	Logf    func(format string, args ...any)
	// RetryEvery is how often Run retries a failed sign-in or a pending
	// reversal (30s).
	RetryEvery time.Duration
}

// Terminal runs cashier flows against its devices and journal, one at a
// time: a terminal has one PIN pad and one cardholder in front of it.
type Terminal struct {
	cfg  Config
	txn  *txn.Service
	busy sync.Mutex
}

// CodeBusy is the error code of a transaction refused because another one
// is running.
const CodeBusy = "busy"

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
	return &Terminal{cfg: cfg, txn: txn.New(cfg.Info, txn.Deps{
		Journal: cfg.Journal, Channel: cfg.Devices.Channel, PinPad: cfg.Devices.PinPad, Now: cfg.Now, Logf: cfg.Logf,
	})}
}

// Run keeps the terminal online until ctx ends: it signs in and sends the
// reversals a previous run or a lost answer left pending, at once and then
// every Config.RetryEvery, so that a pending reversal goes out as soon as
// the host is back even if no sale comes to push it. Failures are logged
// and retried; the terminal serves its status meanwhile.
func (t *Terminal) Run(ctx context.Context) {
	for {
		t.resolve(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(t.cfg.RetryEvery):
		}
	}
}

func (t *Terminal) resolve(ctx context.Context) {
	if !t.txn.SignedIn() {
		if err := t.txn.SignIn(ctx); err != nil {
			t.cfg.Logf("sign-in failed (retried in %v and before the next sale): %v", t.cfg.RetryEvery, err)
			return
		}
	}
	if err := t.txn.ReversePending(ctx); err != nil {
		t.cfg.Logf("reversal failed (retried in %v and before the next sale): %v", t.cfg.RetryEvery, err)
	}
}

// SignIn signs the terminal in now.
func (t *Terminal) SignIn(ctx context.Context) error { return t.txn.SignIn(ctx) }

// SaleResult is what a sale ends with.
type SaleResult struct {
	Result          string `json:"result"`
	Code            string `json:"code"`
	Message         string `json:"message"`
	Batch           string `json:"batch"`
	Trace           string `json:"trace"`
	RRN             string `json:"rrn"`
	AuthCode        string `json:"auth_code,omitempty"`
	Amount          int64  `json:"amount"`
	Channel         string `json:"channel"`
	MaskedPAN       string `json:"masked_pan"`
	ReceiptsPrinted int64  `json:"receipts_printed"`
	// Warning tells the cashier what went wrong after the money was
	// settled with the host (a receipt that did not print, a flow error).
	Warning string `json:"warning,omitempty"`
}

// Sale runs the sale flow for amount. An error is a failure before any
// transaction went online (a *flow.Error); once the host has been asked,
// the journaled outcome is returned whatever the flow did afterwards.
func (t *Terminal) Sale(ctx context.Context, amount money.Fen) (SaleResult, error) {
	if !t.busy.TryLock() {
		return SaleResult{}, &flow.Error{Code: CodeBusy, Message: "the terminal is busy with another transaction; try again when it is done"}
	}
	defer t.busy.Unlock()
	s := t.newSession()
	defer s.close()
	out, err := t.cfg.Flows.Run(ctx, s, "sale", map[string]any{"amount": int64(amount)})
	last, sent := s.lastTxn()
	if !sent {
		if err == nil {
			err = &flow.Error{Code: "flow_error", Message: "the sale flow returned without authorizing a sale"}
		}
		return SaleResult{}, err
	}
	res := SaleResult{
		Result: last.Result, Code: last.Code, Message: last.Message, Batch: last.Batch, Trace: last.Trace,
		RRN: last.RRN, AuthCode: last.AuthCode, Amount: last.Amount, Channel: last.Channel, MaskedPAN: last.MaskedPAN,
	}
	if err != nil {
		res.Warning = flow.AsError(err).Message
		return res, nil
	}
	if n, ok := out["receipts_printed"].(int64); ok {
		res.ReceiptsPrinted = n
	}
	if w, ok := out["print_error"].(string); ok && w != "" {
		res.Warning = "receipt not printed: " + w + "; fix the printer and reprint (the sale stands, do not charge again)"
	}
	return res, nil
}

// Status is the terminal's own state.
type Status struct {
	TID          string `json:"tid"`
	MID          string `json:"mid"`
	MerchantName string `json:"merchant_name"`
	Batch        string `json:"batch"`
	NextTrace    string `json:"next_trace"`
	SignedIn     bool   `json:"signed_in"`
	Pending      int    `json:"pending_reversals"`
}

// Status reports the terminal ids and counters.
func (t *Terminal) Status() (Status, error) {
	c, err := t.cfg.Journal.Counters()
	if err != nil {
		return Status{}, err
	}
	pending, err := t.cfg.Journal.Pending()
	if err != nil {
		return Status{}, err
	}
	return Status{
		TID: t.cfg.Info.TID, MID: t.cfg.Info.MID, MerchantName: t.cfg.Info.MerchantName,
		Batch: c.Batch, NextTrace: c.NextTrace, SignedIn: t.txn.SignedIn(), Pending: len(pending),
	}, nil
}

// view turns a journal record into what a flow sees.
func view(rec journal.Record, loc *time.Location) flow.TxnView {
	result := flow.ResultDeclined
	switch rec.State {
	case journal.StateApproved:
		result = flow.ResultApproved
	case journal.StateReversed:
		result = flow.ResultReversed
	case journal.StateCreated, journal.StateUnknown:
		result = flow.ResultUnknown
	}
	msg := rec.HostMessage
	switch result {
	case flow.ResultReversed:
		msg = "no answer from the host: the sale was reversed and the card is not charged; try again"
	case flow.ResultUnknown:
		msg = "no answer from the host: a reversal is pending and will be sent before the next transaction; do not charge again"
	}
	return flow.TxnView{
		Result: result, Code: rec.HostCode, Message: msg, TID: rec.TID, MID: rec.MID, Batch: rec.Batch,
		Trace: rec.Trace, RRN: rec.RRN, AuthCode: rec.AuthCode, Amount: rec.Amount, Channel: rec.Channel,
		MaskedPAN: rec.MaskedPAN, EntryMode: rec.EntryMode, Time: rec.UpdatedAt.In(loc).Format("2006-01-02 15:04:05"),
	}
}

// cashierError turns a device or service error into a message for the
// cashier and a code for a cash register.
func cashierError(err error) error {
	var fe *flow.Error
	switch {
	case errors.As(err, &fe):
		return fe
	case errors.Is(err, pinpad.ErrCancelled):
		return &flow.Error{Code: "cancelled", Message: "cancelled by the cardholder"}
	case errors.Is(err, pinpad.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return &flow.Error{Code: "timeout", Message: "timed out waiting for the cardholder or a device"}
	case errors.Is(err, pinpad.ErrCardRead):
		return &flow.Error{Code: "card_read", Message: "the card could not be read: " + err.Error()}
	case errors.Is(err, pinpad.ErrNotConnected):
		return &flow.Error{Code: "no_pinpad", Message: "no PIN pad: device activation failed"}
	case errors.Is(err, txn.ErrSignInRefused):
		return &flow.Error{Code: "sign_in_refused", Message: err.Error()}
	case errors.Is(err, txn.ErrReversalPending):
		return &flow.Error{Code: "reversal_pending", Message: "a reversal for an earlier transaction could not be sent yet, so no new transaction can go online: " + err.Error()}
	case errors.Is(err, channels.ErrNotSignedIn):
		return &flow.Error{Code: "not_signed_in", Message: "the terminal is not signed in: sign in first"}
	case errors.Is(err, base.ErrUnavailable):
		return &flow.Error{Code: "device_unavailable", Message: fmt.Sprintf("a device or the host channel is not available: %v", err)}
	case printer.IsNotReady(err):
		return &flow.Error{Code: "printer", Message: err.Error()}
	}
	return &flow.Error{Code: "device_error", Message: fmt.Sprintf("device or host error: %v", err)}
}
