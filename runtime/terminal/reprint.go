package terminal

import (
	"context"

	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/txn"
)

// Reprint prints a transaction's receipt again, marked DUPLICATE, through
// the reprint flow: the one ref names, or with a zero ref the last
// transaction that has a receipt (a sale, void or refund, approved). The
// reprint is counted in the journal; nothing is sent.
func (t *Terminal) Reprint(ctx context.Context, ref txn.OriginalRef) (Result, error) {
	if !t.busy.TryLock() {
		return Result{}, &flow.Error{Code: CodeBusy, Message: "the terminal is busy with a transaction; reprint when it is done"}
	}
	defer t.busy.Unlock()
	var rec journal.Record
	if ref == (txn.OriginalRef{}) {
		recent, err := t.cfg.Journal.Recent(50)
		if err != nil {
			return Result{}, t.refusal(err)
		}
		for _, r := range recent {
			if (r.Kind == journal.KindSale || r.Kind == journal.KindVoid || r.Kind == journal.KindRefund) && r.State.Outcome() == journal.OutcomeApproved {
				rec = r
				break
			}
		}
		if rec.Trace == "" {
			return Result{}, &flow.Error{Code: txn.CodeOriginalNotFound, Message: "no recent transaction has a receipt to reprint"}
		}
	} else {
		key, err := t.engine.Find(ref)
		if err != nil {
			return Result{}, cashierError(err)
		}
		if rec, err = t.cfg.Journal.Get(key); err != nil {
			return Result{}, cashierError(err)
		}
	}
	s := t.newSession(rec, "")
	s.executed, s.reprint = true, true
	defer s.close()
	out, err := t.cfg.Flows.Run(ctx, s.host(nil), "reprint", map[string]any{"kind": string(rec.Kind), "medium": string(rec.Medium), "amount": int64(rec.Amount), "orig_trace": origTrace(rec)})
	if err != nil {
		return Result{}, cashierError(err)
	}
	final, err := t.cfg.Journal.Get(rec.Key())
	if err != nil {
		return Result{}, t.refusal(err)
	}
	res := resultOf(final, "")
	if n, ok := out["receipts_printed"].(int64); ok {
		res.ReceiptsPrinted = n
	}
	return res, nil
}
