package terminal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/txn"
)

// SettleResult is how a settlement ended, for a cash register or a cashier.
type SettleResult struct {
	Result    string           `json:"result"` // "settled"
	Batch     string           `json:"batch"`
	NextBatch string           `json:"next_batch"`
	Balanced  bool             `json:"balanced"`
	Uploaded  int              `json:"uploaded"`
	Records   int              `json:"records"`
	Totals    []journal.Totals `json:"totals"`
	// Wallets are the reconciliations of the wallets that took part.
	Wallets  []journal.WalletCheck `json:"wallets,omitempty"`
	HostCode string                `json:"host_code,omitempty"`
	ClosedAt string                `json:"closed_at"`
	// SlipPrinted tells whether the slip printed; Warning says why not.
	SlipPrinted bool   `json:"slip_printed"`
	Warning     string `json:"warning,omitempty"`
}

func settleResultOf(s journal.Settlement) SettleResult {
	return SettleResult{Result: "settled", Batch: s.Batch, NextBatch: s.NextBatch, Balanced: s.Balanced, Uploaded: s.Uploaded,
		Records: s.Records, Totals: s.Totals, Wallets: s.Wallets, HostCode: s.HostCode, ClosedAt: s.ClosedAt.Format(time.RFC3339)}
}

// Settle settles the current batch through the settle flow, whose
// txn.execute() is txn.Engine.Settle and which prints the slip. The batch
// closes whether or not the slip prints; a slip that did not print is
// reprinted from the journal. ui is the front end's (nil for none).
func (t *Terminal) Settle(ctx context.Context, operator string, ui flow.UI) (SettleResult, error) {
	if !t.busy.TryLock() {
		return SettleResult{}, &flow.Error{Code: CodeBusy, Message: "the terminal is busy with a transaction; settle when it is done"}
	}
	defer t.busy.Unlock()
	if err := t.barred(); err != nil {
		return SettleResult{}, err
	}
	ss := &settleSession{t: t, operator: operator}
	out, flowErr := t.cfg.Flows.Run(ctx, flow.Host{UI: ui, Txn: ss, Printer: ss, Terminal: ss}, "settle", map[string]any{"kind": string(journal.KindSettle), "reprint": false})
	if ss.err != nil {
		return SettleResult{}, t.refusal(ss.err)
	}
	if !ss.done {
		// The flow failed before it settled: nothing was sent.
		why := flowErr
		if why == nil {
			why = &flow.Error{Code: flow.CodeFlowError, Message: "the settle flow returned without settling"}
		}
		return SettleResult{}, cashierError(why)
	}
	return ss.result(out, flowErr), nil
}

// ReprintSettlement prints the last settlement's slip again through the
// settle flow (ctx.reprint), marked DUPLICATE, and counts the reprint.
func (t *Terminal) ReprintSettlement(ctx context.Context) (SettleResult, error) {
	s, err := t.cfg.Journal.LastSettlement(t.cfg.Info.TID)
	if errors.Is(err, journal.ErrNotFound) {
		return SettleResult{}, &flow.Error{Code: txn.CodeOriginalNotFound, Message: "no settlement to reprint yet"}
	}
	if err != nil {
		return SettleResult{}, t.refusal(err)
	}
	ss := &settleSession{t: t, s: s, done: true, reprint: true}
	out, flowErr := t.cfg.Flows.Run(ctx, flow.Host{Txn: ss, Printer: ss, Terminal: ss}, "settle", map[string]any{"kind": string(journal.KindSettle), "reprint": true})
	res := ss.result(out, flowErr)
	if !res.SlipPrinted {
		why := flowErr
		if why == nil {
			why = &flow.Error{Code: "print_failed", Message: res.Warning}
		}
		return SettleResult{}, cashierError(why)
	}
	if _, err = t.cfg.Journal.MarkSlipReprinted(context.WithoutCancel(ctx), s.TID, s.Batch); err != nil {
		t.cfg.Logf("settlement slip of batch %s reprinted, but counting it failed: %v", s.Batch, err)
	}
	return res, nil
}

// settleSession is the settle flow's host: its txn.execute() settles the
// batch, once; its print prints the slip as one job per settlement and
// reprint, so that a print retried after a deadline comes out once.
type settleSession struct {
	t        *Terminal
	operator string
	reprint  bool
	done     bool
	s        journal.Settlement
	err      error // the settlement's refusal or failure
	printed  bool
}

var (
	_ flow.Txn      = (*settleSession)(nil)
	_ flow.Printer  = (*settleSession)(nil)
	_ flow.Terminal = (*settleSession)(nil)
)

func (ss *settleSession) Execute(ctx context.Context, _ flow.ExecuteArgs) (flow.TxnView, error) {
	if ss.done {
		return flow.TxnView{}, &flow.Error{Code: "already_executed", Message: "the batch was settled in this run already"}
	}
	ss.done = true
	s, err := ss.t.engine.Settle(ctx, ss.operator)
	if err != nil {
		ss.done, ss.err = false, err
		return flow.TxnView{}, cashierError(err)
	}
	ss.s = s
	return ss.view(), nil
}

func (ss *settleSession) Record(context.Context) (flow.TxnView, error) {
	if !ss.done {
		return flow.TxnView{}, &flow.Error{Code: txn.CodeOriginalNotFound, Message: "no settlement in this run yet"}
	}
	return ss.view(), nil
}

func (ss *settleSession) Print(ctx context.Context, a flow.PrintArgs) error {
	if !ss.done {
		return &flow.Error{Code: "nothing_to_print", Message: "the slip prints once the batch is settled"}
	}
	p, err := ss.t.cfg.Devices.Printer(ctx)
	if err != nil {
		return cashierError(err)
	}
	id := fmt.Sprintf("settle/%s/%s/%d", ss.s.TID, ss.s.Batch, ss.s.Reprints)
	if ss.reprint {
		id = fmt.Sprintf("settle/%s/%s/reprint-%d", ss.s.TID, ss.s.Batch, ss.s.Reprints+1)
	}
	if err := p.Print(ctx, printer.Job{ID: printer.JobID(id), Document: a.Document.Printer()}); err != nil {
		return cashierError(err)
	}
	ss.printed = true
	return nil
}

func (ss *settleSession) Info(ctx context.Context) (flow.TerminalView, error) {
	return ss.t.terminalView()
}

// view is the settlement as the flow sees it.
func (ss *settleSession) view() flow.TxnView {
	s, loc := ss.s, ss.t.cfg.Now().Location()
	v := flow.SettlementView{Batch: s.Batch, NextBatch: s.NextBatch, Balanced: s.Balanced, Uploaded: s.Uploaded, Records: s.Records,
		ClosedAt: s.ClosedAt.In(loc).Format("2006-01-02 15:04:05"), Reprints: s.Reprints}
	for _, tot := range s.Totals {
		v.Totals = append(v.Totals, totalsView(tot))
	}
	for _, w := range s.Wallets {
		wv := flow.WalletCheckView{Medium: string(w.Medium), Checked: w.Checked, Balanced: w.Balanced, Reason: w.Reason}
		for _, d := range w.Differences {
			wv.Differences = append(wv.Differences, flow.WalletDiffView{Kind: string(d.Kind), OrderNo: d.OrderNo, RefundNo: d.RefundNo, Terminal: int64(d.Terminal), Wallet: int64(d.Wallet)})
		}
		v.Wallets = append(v.Wallets, wv)
	}
	return flow.TxnView{Result: flow.ResultApproved, Kind: string(journal.KindSettle), Code: s.HostCode, TID: s.TID, MID: s.MID,
		Batch: s.Batch, Trace: s.Record.Trace, Medium: string(journal.MediumCard), Time: v.ClosedAt, Settlement: v}
}

// result is how the settlement ended for the front end: settled, with the
// slip printed or a warning saying why not.
func (ss *settleSession) result(out map[string]any, flowErr error) SettleResult {
	res := settleResultOf(ss.s)
	res.SlipPrinted = ss.printed
	switch {
	case flowErr != nil:
		res.Warning = flow.AsError(flowErr).Message + "; the batch is closed: reprint the slip"
	case !ss.printed:
		why, _ := out["print_error"].(string)
		if why == "" {
			why = "the settle flow printed nothing"
		}
		res.Warning = "settlement slip not printed: " + why + "; the batch is closed: reprint the slip"
	}
	return res
}

// refusal turns an engine error into the front ends' error: a refusal
// with its code, or a journal failure.
func (t *Terminal) refusal(err error) error {
	var fe *flow.Error
	if txn.Code(err) == "" && !errors.As(err, &fe) {
		return &flow.Error{Code: CodeJournalError, Message: "the journal could not record it: " + err.Error()}
	}
	return cashierError(err)
}
