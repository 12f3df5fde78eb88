package txn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/runtime/crashpoint"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/money"
)

// SettlePolicy sets when a batch must be settled.
type SettlePolicy struct {
	// MaxRecords is how many money records a batch may hold before new
	// ones are refused with settle_first (500); below zero: no limit.
	MaxRecords int
	// SpanDays lets a batch run past the end of its business day; by
	// default a batch begun on an earlier business day must be settled
	// first.
	SpanDays bool
	// AutoAt, when set, is the local time of day at which the terminal
	// settles by itself (and where its business day ends); a batch left
	// unsettled past it (the terminal was off, the host down) is settled
	// as soon as it can be.
	AutoAt *TimeOfDay
}

// TimeOfDay is a local wall-clock time.
type TimeOfDay struct{ Hour, Minute int }

// ParseTimeOfDay reads "HH:MM".
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return TimeOfDay{}, fmt.Errorf("time of day %q: want HH:MM (24-hour)", s)
	}
	return TimeOfDay{t.Hour(), t.Minute()}, nil
}

func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", t.Hour, t.Minute) }

func (p SettlePolicy) withDefaults() SettlePolicy {
	if p.MaxRecords == 0 {
		p.MaxRecords = 500
	}
	return p
}

// dayStart is when the business day that now is in began: the last
// AutoAt, or else local midnight.
func (p SettlePolicy) dayStart(now time.Time) time.Time {
	y, m, d := now.Date()
	if p.AutoAt == nil {
		return time.Date(y, m, d, 0, 0, 0, 0, now.Location())
	}
	at := time.Date(y, m, d, p.AutoAt.Hour, p.AutoAt.Minute, 0, 0, now.Location())
	if now.Before(at) {
		at = at.AddDate(0, 0, -1)
	}
	return at
}

// settleDue reports why the current batch must be settled before another
// money operation, or "" when it need not be.
func (e *Engine) settleDue() string {
	p := e.deps.Policy.Settle
	st := e.deps.Journal.CurrentBatch()
	if st.Records == 0 || p.SpanDays && p.AutoAt == nil {
		return ""
	}
	now := e.deps.Now()
	start := p.dayStart(now)
	if !st.First.Before(start) {
		return ""
	}
	first := st.First.In(now.Location()).Format("2006-01-02 15:04")
	if p.AutoAt != nil {
		return fmt.Sprintf("batch %s began %s, before the automatic settlement of %s: settle it first", st.Batch, first, start.Format("2006-01-02 15:04"))
	}
	return fmt.Sprintf("batch %s began on an earlier business day (%s): settle it first", st.Batch, first)
}

// SettleFirst says why new money operations are refused with
// settle_first, or "" when they are not.
func (e *Engine) SettleFirst() string {
	if why := e.settleDue(); why != "" {
		return why
	}
	st := e.deps.Journal.CurrentBatch()
	if limit := e.deps.Policy.Settle.MaxRecords; limit > 0 && st.Records >= limit {
		return fmt.Sprintf("batch %s holds %d records, the most it may: settle it first", st.Batch, st.Records)
	}
	return ""
}

// SettleDue reports whether the automatic settlement is due: AutoAt is
// set and the batch holds records from before the last one.
func (e *Engine) SettleDue() bool {
	return e.deps.Policy.Settle.AutoAt != nil && e.settleDue() != ""
}

// Settle settles the current batch: every pending record is resolved
// first (a settlement is refused, naming them, while any stays pending);
// the totals per medium are journaled with the settlement's own key; the
// card totals go to the acquirer (0500); an unbalanced answer is followed
// by the batch upload (0320) of the batch's card records; each wallet that
// took part reconciles the batch's orders with its books (reconcileWallets);
// then the batch closes and its number advances, in one commit. A
// settlement left
// half done (no answer, a crash) is finished under the same keys by the
// next Settle or by the resolver, never begun again.
func (e *Engine) Settle(ctx context.Context, operator string) (journal.Settlement, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok, err := e.deps.Journal.ActiveSettlement(); err != nil {
		return journal.Settlement{}, err
	} else if ok {
		return e.finishSettlement(ctx, s)
	}
	// Resolve what can be resolved now; what stays pending refuses the
	// settlement below, with its list.
	_ = e.resolvePending(ctx, "", journal.Key{})
	if !e.SignedIn() {
		if err := e.signIn(ctx); err != nil {
			return journal.Settlement{}, err
		}
	}
	s, err := e.deps.Journal.BeginSettlement(ctx, journal.SettleIntent{TID: e.term.TID, MID: e.term.MID, Operator: operator})
	if errors.Is(err, journal.ErrPendingRecords) {
		return journal.Settlement{}, &Error{Code: CodeSettlePending, Err: fmt.Errorf("settlement refused: %w", err)}
	}
	if err != nil {
		return journal.Settlement{}, err
	}
	crashpoint.Hit(crashpoint.SettleBegun)
	return e.finishSettlement(ctx, s)
}

// finishSettlement takes the active settlement s as far as it can: the
// request (again, under its key, until answered), the batch upload
// (again, under its reserved keys, until every message is answered), the
// close.
func (e *Engine) finishSettlement(ctx context.Context, s journal.Settlement) (journal.Settlement, error) {
	unfinished := func(format string, a ...any) error {
		return &Error{Code: CodeSettlementUnfinished, Err: fmt.Errorf("settlement of batch %s not finished (it will be finished under the same key): %s", s.Batch, fmt.Sprintf(format, a...))}
	}
	acq, err := e.deps.Channels.Acquirer(ctx)
	if err != nil {
		return s, unfinished("%v", err)
	}
	key := channels.Key{TID: s.TID, MID: s.MID, Batch: s.Batch, Trace: s.Record.Trace}
	if !s.Answered {
		resp, err := acq.Settle(ctx, channels.SettleRequest{Key: key, Totals: channelTotals(s.Medium(journal.MediumCard))})
		if err != nil {
			e.settleAttempt(ctx, s, err.Error())
			return s, unfinished("%v", err)
		}
		crashpoint.Hit(crashpoint.SettleAnswered)
		if resp.Code != channels.CodeApproved {
			c := journal.Change{To: journal.StateDeclined, HostCode: resp.Code, HostMessage: resp.Message, HostTime: resp.HostTime}
			if _, err := e.deps.Journal.AbortSettlement(context.WithoutCancel(ctx), c); err != nil {
				return s, err
			}
			return s, refuse(CodeSettleRefused, "the acquirer refused the settlement of batch %s: %s %s; the batch stays open", s.Batch, resp.Code, resp.Message)
		}
		host := journalTotals(resp.HostTotals)
		answer := journal.SettleAnswer{Balanced: resp.Balanced, HostCode: resp.Code, HostMessage: resp.Message, HostTotals: &host, HostTime: resp.HostTime}
		if resp.Balanced {
			// The answer and the close in one commit.
			return e.closeBatch(ctx, s, 0, &answer)
		}
		upload, err := e.uploadRecords(s)
		if err != nil {
			return s, err
		}
		answer.UploadMessages = (len(upload) + channels.MaxUploadRecords - 1) / channels.MaxUploadRecords
		if s, err = e.deps.Journal.SettlementAnswered(context.WithoutCancel(ctx), answer); err != nil {
			return s, err
		}
	}
	uploaded := 0
	if !s.Balanced {
		records, err := e.uploadRecords(s)
		if err != nil {
			return s, err
		}
		if n := (len(records) + channels.MaxUploadRecords - 1) / channels.MaxUploadRecords; n != s.UploadMessages {
			return s, fmt.Errorf("settlement of batch %s: %d upload messages reserved, the batch needs %d", s.Batch, s.UploadMessages, n)
		}
		for i := 0; i < s.UploadMessages; i++ {
			chunk := records[i*channels.MaxUploadRecords : min(len(records), (i+1)*channels.MaxUploadRecords)]
			k := key
			k.Trace = s.UploadTrace(i)
			resp, err := acq.BatchUpload(ctx, channels.BatchUploadRequest{Key: k, Records: chunk, Last: i == s.UploadMessages-1})
			if err == nil && resp.Code != channels.CodeApproved {
				err = fmt.Errorf("answered %s %s", resp.Code, resp.Message)
			}
			if err != nil {
				e.settleAttempt(ctx, s, fmt.Sprintf("batch upload %d of %d: %v", i+1, s.UploadMessages, err))
				return s, unfinished("batch upload %d of %d: %v", i+1, s.UploadMessages, err)
			}
			uploaded += len(chunk)
			crashpoint.Hit(crashpoint.SettleUpload)
		}
	}
	return e.closeBatch(ctx, s, uploaded, nil)
}

// closeBatch has each wallet that took part reconcile the batch, then
// closes the active settlement's batch with their answers (and the
// acquirer's balanced answer, when it comes in the same commit).
func (e *Engine) closeBatch(ctx context.Context, s journal.Settlement, uploaded int, answer *journal.SettleAnswer) (journal.Settlement, error) {
	wallets, err := e.reconcileWallets(ctx, s)
	if err != nil {
		return s, err
	}
	crashpoint.Hit(crashpoint.SettleClose)
	s, err = e.deps.Journal.CloseBatch(context.WithoutCancel(ctx), uploaded, answer, wallets)
	if err != nil {
		return s, err
	}
	e.deps.Logf("settled batch %s (balanced %t, %d records uploaded): next batch %s", s.Batch, s.Balanced, s.Uploaded, s.NextBatch)
	for _, w := range s.Wallets {
		switch {
		case !w.Checked:
			e.deps.Logf("batch %s: %s not reconciled: %s", s.Batch, w.Medium, w.Reason)
		case !w.Balanced:
			e.deps.Logf("batch %s: %s UNBALANCED: %d orders differ (on the settlement slip)", s.Batch, w.Medium, len(w.Differences))
		}
	}
	return s, nil
}

// reconcileWallets sends each wallet that took part in s's batch its
// totals and its orders, voids and refunds (Wallet.Reconcile). Nothing is
// booked by it: a wallet that has no reconciliation or does not answer is
// noted, and the batch closes anyway (the wallet's money moves without the
// terminal's settlement; the slip tells the merchant to check its bill).
func (e *Engine) reconcileWallets(ctx context.Context, s journal.Settlement) ([]journal.WalletCheck, error) {
	var media []journal.Medium
	for _, t := range s.Totals {
		if t.Medium.Wallet() {
			media = append(media, t.Medium)
		}
	}
	if len(media) == 0 {
		return nil, nil
	}
	recs, err := e.deps.Journal.BatchRecords(s.TID, s.Batch)
	if err != nil {
		return nil, err
	}
	var out []journal.WalletCheck
	for _, m := range media {
		out = append(out, e.reconcileWallet(ctx, s, m, recs))
	}
	return out, nil
}

func (e *Engine) reconcileWallet(ctx context.Context, s journal.Settlement, m journal.Medium, recs []journal.Record) journal.WalletCheck {
	check := journal.WalletCheck{Medium: m}
	w, err := e.deps.Channels.Wallet(ctx, m)
	if err != nil {
		check.Reason = err.Error()
		return check
	}
	info, err := w.Info(ctx)
	if err != nil {
		check.Reason = "no answer: " + err.Error()
		return check
	}
	rc, ok := w.(channels.Reconciler)
	if !info.Has(channels.CapabilityReconcile) || !ok {
		check.Reason = "the wallet has no reconciliation: check its bill"
		return check
	}
	req := channels.ReconcileRequest{Key: channels.Key{TID: s.TID, MID: s.MID, Batch: s.Batch, Trace: s.Record.Trace},
		Totals: channelTotals(s.Medium(m))}
	for _, r := range recs {
		if r.Medium != m || !r.Kind.Money() {
			continue
		}
		it := channels.ReconcileItem{Amount: int64(r.Amount), Booked: booked(r)}
		switch r.Kind {
		case journal.KindSale:
			it.Kind, it.OrderNo = channels.ReconcileSale, e.key(r).OrderNo()
		case journal.KindVoid, journal.KindRefund:
			if r.Original == nil {
				continue
			}
			it.OrderNo = channels.Key{TID: r.Original.TID, Batch: r.Original.Batch, Trace: r.Original.Trace}.OrderNo()
			it.Kind = channels.ReconcileVoid
			if r.Kind == journal.KindRefund {
				it.Kind, it.RefundNo = channels.ReconcileRefund, e.key(r).RefundNo()
			}
		default:
			continue
		}
		req.Items = append(req.Items, it)
	}
	ans, err := rc.Reconcile(ctx, req)
	if err != nil {
		check.Reason = "no answer: " + err.Error()
		return check
	}
	host := journalTotals(ans.HostTotals)
	host.Medium = m
	check.Checked, check.Balanced, check.HostTotals = true, ans.Balanced, &host
	for _, d := range ans.Differences {
		check.Differences = append(check.Differences, journal.WalletDiff{Kind: journal.Kind(d.Kind), OrderNo: d.OrderNo, RefundNo: d.RefundNo,
			Terminal: money.Fen(d.Terminal), Wallet: money.Fen(d.Wallet), Reason: d.Reason})
	}
	return check
}

// booked reports whether a settlement counts r (journal.Totals.Add).
func booked(r journal.Record) bool {
	var t journal.Totals
	t.Add(r)
	return t != journal.Totals{}
}

// settleAttempt journals a settlement request or upload that failed on
// the settlement's record, which stays pending.
func (e *Engine) settleAttempt(ctx context.Context, s journal.Settlement, why string) {
	rec, err := e.deps.Journal.Get(s.Record)
	if err == nil {
		to := rec.State
		if to == journal.StateCreated || to == journal.StateSent {
			to = journal.StateUnknown
		}
		_, err = e.deps.Journal.Move(context.WithoutCancel(ctx), s.Record, journal.Change{To: to, Attempt: true, LastError: why})
	}
	if err != nil {
		e.deps.Logf("journaling the failed settlement attempt of batch %s: %v", s.Batch, err)
	}
}

// uploadRecords are the card records of s's batch the acquirer books:
// approved sales (voided or refunded since, too), voids and refunds.
func (e *Engine) uploadRecords(s journal.Settlement) ([]channels.UploadRecord, error) {
	recs, err := e.deps.Journal.BatchRecords(s.TID, s.Batch)
	if err != nil {
		return nil, err
	}
	var out []channels.UploadRecord
	for _, r := range recs {
		if r.Medium != journal.MediumCard || !r.Kind.Money() {
			continue
		}
		booked := r.Kind == journal.KindSale && r.State.Outcome() == journal.OutcomeApproved ||
			(r.Kind == journal.KindVoid || r.Kind == journal.KindRefund) && r.State == journal.StateApproved
		if !booked {
			continue
		}
		out = append(out, channels.UploadRecord{Key: e.key(r), Kind: string(r.Kind), Amount: int64(r.Amount), MaskedPAN: r.MaskedPAN, RRN: r.RRN, AuthCode: r.AuthCode})
	}
	return out, nil
}

func channelTotals(t journal.Totals) channels.Totals {
	return channels.Totals{Medium: string(t.Medium),
		SaleCount: int64(t.SaleCount), SaleAmount: int64(t.SaleAmount),
		VoidCount: int64(t.VoidCount), VoidAmount: int64(t.VoidAmount),
		RefundCount: int64(t.RefundCount), RefundAmount: int64(t.RefundAmount)}
}

func journalTotals(t channels.Totals) journal.Totals {
	return journal.Totals{Medium: journal.MediumCard,
		SaleCount: int(t.SaleCount), SaleAmount: money.Fen(t.SaleAmount),
		VoidCount: int(t.VoidCount), VoidAmount: money.Fen(t.VoidAmount),
		RefundCount: int(t.RefundCount), RefundAmount: money.Fen(t.RefundAmount)}
}
