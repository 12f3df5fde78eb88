package txn

import (
	"context"
	"fmt"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/runtime/crashpoint"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/money"
)

// executeWallet sends a wallet payment (or refund, or void as a cancel)
// and journals its outcome; a customer still entering their password is
// polled for, then the trade is cancelled.
func (e *Engine) executeWallet(ctx context.Context, rec journal.Record, refs Refs) (journal.Record, error) {
	w, err := e.deps.Channels.Wallet(ctx, rec.Medium)
	if err != nil {
		return e.outcome(ctx, rec, journal.Change{To: journal.StateNotSent, LastError: err.Error()})
	}
	key := e.key(rec)
	switch rec.Kind {
	case journal.KindSale:
		if refs.PaymentCode == "" {
			return e.outcome(ctx, rec, journal.Change{To: journal.StateNotSent, LastError: "no payment code was scanned"})
		}
		t, err := w.Pay(ctx, channels.PayRequest{Key: key, OrderNo: key.OrderNo(), Amount: int64(rec.Amount), AuthCode: refs.PaymentCode, Subject: e.term.MerchantName})
		crashpoint.Hit(crashpoint.Answered)
		if err != nil {
			return e.walletNoAnswer(ctx, rec, journal.Change{OrderNo: key.OrderNo()}, err)
		}
		done, err := e.outcome(ctx, rec, tradeChange(t, key.OrderNo()))
		if err != nil || !done.State.Pending() {
			return done, err
		}
		return e.resolveWallet(context.WithoutCancel(ctx), done)
	case journal.KindVoid:
		// A wallet sale of the current batch is voided by cancelling it.
		orig, err := e.deps.Journal.Get(*rec.Original)
		if err != nil {
			return e.outcome(ctx, rec, journal.Change{To: journal.StateNotSent, LastError: err.Error()})
		}
		t, err := w.Cancel(ctx, channels.OrderRequest{Key: e.key(orig), OrderNo: orig.OrderNo})
		crashpoint.Hit(crashpoint.Answered)
		if err != nil {
			return e.walletNoAnswer(ctx, rec, journal.Change{}, err)
		}
		c := journal.Change{HostCode: t.Code, HostMessage: t.Message, HostTime: t.HostTime, TradeNo: t.TradeNo, To: journal.StateDeclined}
		if t.State == channels.TradeRevoked || t.State == channels.TradeClosed {
			c.To = journal.StateApproved
		}
		return e.outcome(ctx, rec, c)
	case journal.KindRefund:
		orig, err := e.deps.Journal.Get(*rec.Original)
		if err != nil {
			return e.outcome(ctx, rec, journal.Change{To: journal.StateNotSent, LastError: err.Error()})
		}
		r, err := w.Refund(ctx, channels.WalletRefundRequest{Key: key, OrderNo: orig.OrderNo, RefundNo: key.RefundNo(), Amount: int64(rec.Amount), Total: int64(orig.Amount)})
		crashpoint.Hit(crashpoint.Answered)
		if err != nil {
			return e.walletNoAnswer(ctx, rec, journal.Change{RefundNo: key.RefundNo()}, err)
		}
		done, err := e.outcome(ctx, rec, refundChange(r, key.RefundNo()))
		if err != nil || !done.State.Pending() {
			return done, err
		}
		return e.resolveWallet(context.WithoutCancel(ctx), done)
	}
	return e.outcome(ctx, rec, journal.Change{To: journal.StateNotSent, LastError: fmt.Sprintf("a wallet takes no %s", rec.Kind)})
}

// tradeChange journals a wallet's answer about a payment.
func tradeChange(t channels.Trade, orderNo string) journal.Change {
	c := journal.Change{HostCode: t.Code, HostMessage: t.Message, TradeNo: t.TradeNo, Paid: money.Fen(t.Paid), HostTime: t.HostTime, OrderNo: orderNo}
	switch t.State {
	case channels.TradeSuccess, channels.TradeRefunded:
		c.To = journal.StateApproved
		if c.HostMessage == "" {
			c.HostMessage = "paid"
		}
	case channels.TradeUserPaying:
		c.To, c.HostMessage = journal.StateInProgress, "waiting for the customer to confirm the payment"
	case channels.TradeNotPaid, channels.TradeClosed:
		c.To = journal.StateDeclined
	default: // not found, revoked, or a state this release does not know
		c.To = journal.StateUnknown
	}
	return c
}

func refundChange(r channels.WalletRefund, refundNo string) journal.Change {
	c := journal.Change{HostCode: r.Code, HostMessage: r.Message, TradeNo: r.RefundID, HostTime: r.HostTime, RefundNo: refundNo}
	switch r.State {
	case channels.RefundSuccess:
		c.To = journal.StateApproved
	case channels.RefundFailed:
		c.To = journal.StateDeclined
	case channels.RefundProcessing:
		c.To = journal.StateInProgress
	default:
		c.To = journal.StateUnknown
	}
	return c
}

func (e *Engine) walletNoAnswer(ctx context.Context, rec journal.Record, c journal.Change, err error) (journal.Record, error) {
	if channels.Classify(err) == channels.ClassNotSent {
		c.To, c.LastError = journal.StateNotSent, err.Error()
		return e.outcome(ctx, rec, c)
	}
	c.To, c.LastError, c.HostMessage = journal.StateUnknown, err.Error(), "no answer from the wallet"
	e.deps.Logf("%s %s %s: no answer: %v", rec.Medium, rec.Kind, rec.Key(), err)
	done, jerr := e.outcome(ctx, rec, c)
	if jerr != nil {
		return done, jerr
	}
	resolved, rerr := e.resolveWallet(context.WithoutCancel(ctx), done)
	if rerr != nil {
		e.deps.Logf("%s %s %s: %v (retried in the background and before the next %s operation)", rec.Medium, rec.Kind, rec.Key(), rerr, rec.Medium)
	}
	return resolved, nil
}

// resolveWallet resolves a wallet record of unknown outcome: it queries
// (polling while the customer is still paying, every WalletPollEvery for
// WalletPollFor), and cancels the trade when the outcome stays unknown.
// A refund is queried and, if the wallet never received it, sent again
// with the same refund number.
func (e *Engine) resolveWallet(ctx context.Context, rec journal.Record) (journal.Record, error) {
	w, err := e.deps.Channels.Wallet(ctx, rec.Medium)
	if err != nil {
		return rec, err
	}
	key := e.key(rec)
	if rec.Kind == journal.KindRefund {
		return e.resolveWalletRefund(ctx, w, rec)
	}
	if rec.Kind == journal.KindVoid {
		// A void is a cancel, which is safe to repeat.
		orig, err := e.deps.Journal.Get(*rec.Original)
		if err != nil {
			return rec, err
		}
		t, err := w.Cancel(ctx, channels.OrderRequest{Key: e.key(orig), OrderNo: orig.OrderNo})
		if err != nil {
			return e.failedAttempt(ctx, e.toUnknown(ctx, rec), fmt.Sprintf("cancel for void %s not answered: %v", rec.Key(), err))
		}
		to := journal.StateDeclined
		if t.State == channels.TradeRevoked || t.State == channels.TradeClosed {
			to = journal.StateApproved
		}
		return e.deps.Journal.Move(ctx, rec.Key(), journal.Change{To: to, HostCode: t.Code, HostMessage: t.Message, HostTime: t.HostTime, Attempt: true})
	}
	orderNo := key.OrderNo()
	if rec.State != journal.StateReversalPending {
		start := e.deps.Now()
		for {
			t, err := w.Query(ctx, channels.OrderRequest{Key: key, OrderNo: orderNo})
			if err == nil {
				c := tradeChange(t, orderNo)
				c.Attempt = true
				if c.To == journal.StateApproved || c.To == journal.StateDeclined {
					return e.deps.Journal.Move(ctx, rec.Key(), c)
				}
				if c.To == journal.StateInProgress {
					if rec, err = e.deps.Journal.Move(ctx, rec.Key(), c); err != nil {
						return rec, err
					}
					crashpoint.Hit(crashpoint.Poll)
				}
				if c.To != journal.StateInProgress {
					break // not found or revoked: cancel, so that a late payment cannot succeed
				}
			}
			if e.deps.Now().Sub(start)+e.deps.Policy.WalletPollEvery > e.deps.Policy.WalletPollFor {
				break
			}
			if err := e.deps.Sleep(ctx, e.deps.Policy.WalletPollEvery); err != nil {
				return rec, err
			}
		}
		if rec, err = e.deps.Journal.Move(ctx, rec.Key(), journal.Change{To: journal.StateReversalPending, ReversalReason: "cancel"}); err != nil {
			return rec, err
		}
	}
	crashpoint.Hit(crashpoint.Reversal)
	t, err := w.Cancel(ctx, channels.OrderRequest{Key: key, OrderNo: orderNo})
	if err != nil {
		return e.failedAttempt(ctx, rec, fmt.Sprintf("cancel of %s not answered: %v", orderNo, err))
	}
	switch t.State {
	case channels.TradeRevoked, channels.TradeClosed, channels.TradeNotFound, channels.TradeNotPaid:
		return e.deps.Journal.Move(ctx, rec.Key(), journal.Change{To: journal.StateReversed, HostCode: t.Code, HostMessage: t.Message, HostTime: t.HostTime, Attempt: true})
	}
	return e.failedAttempt(ctx, rec, fmt.Sprintf("cancel of %s answered %s %s %s", orderNo, t.State, t.Code, t.Message))
}

// toUnknown moves a record still created or sent to unknown, a state a
// failed attempt can be counted on (the table lets unknown move to itself).
func (e *Engine) toUnknown(ctx context.Context, rec journal.Record) journal.Record {
	if rec.State == journal.StateCreated || rec.State == journal.StateSent {
		if done, err := e.deps.Journal.Move(ctx, rec.Key(), journal.Change{To: journal.StateUnknown}); err == nil {
			return done
		}
	}
	return rec
}

func (e *Engine) resolveWalletRefund(ctx context.Context, w channels.Wallet, rec journal.Record) (journal.Record, error) {
	orig, err := e.deps.Journal.Get(*rec.Original)
	if err != nil {
		return rec, err
	}
	key := e.key(rec)
	rec = e.toUnknown(ctx, rec)
	r, err := w.RefundQuery(ctx, channels.RefundQueryRequest{Key: key, OrderNo: orig.OrderNo, RefundNo: key.RefundNo()})
	if err != nil {
		return e.failedAttempt(ctx, rec, fmt.Sprintf("refund query of %s not answered: %v", key.RefundNo(), err))
	}
	if r.State == channels.RefundNotFound {
		r, err = w.Refund(ctx, channels.WalletRefundRequest{Key: key, OrderNo: orig.OrderNo, RefundNo: key.RefundNo(), Amount: int64(rec.Amount), Total: int64(orig.Amount)})
		if err != nil {
			return e.failedAttempt(ctx, rec, fmt.Sprintf("refund %s sent again, not answered: %v", key.RefundNo(), err))
		}
	}
	c := refundChange(r, key.RefundNo())
	c.Attempt = true
	if c.To == journal.StateInProgress || c.To == journal.StateUnknown {
		return e.failedAttempt(ctx, rec, fmt.Sprintf("refund %s is %s", key.RefundNo(), r.State))
	}
	return e.deps.Journal.Move(ctx, rec.Key(), c)
}
