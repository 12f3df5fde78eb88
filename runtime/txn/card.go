package txn

import (
	"context"
	"fmt"
	"slices"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/runtime/crashpoint"
	"github.com/posrt/posrt/runtime/journal"
)

// SignedIn reports whether the terminal signed in with the acquirer today.
// It does not wait for a transaction in flight.
func (e *Engine) SignedIn() bool {
	on, _ := e.signedOn.Load().(string)
	return on == e.today()
}

func (e *Engine) today() string { return e.deps.Now().Format("2006-01-02") }

// SignIn signs the terminal in with the acquirer: the host answers with
// the batch number and fresh working keys, which go into the PIN pad.
func (e *Engine) SignIn(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.signIn(ctx)
}

func (e *Engine) signIn(ctx context.Context) error {
	if e.protected.Load() {
		return refuse(CodeProtected, "the terminal is in protection mode: the supervisor unlocks it before it signs in again")
	}
	acq, err := e.deps.Channels.Acquirer(ctx)
	if err != nil {
		return &Error{Code: CodeChannelUnavailable, Err: fmt.Errorf("signing in: %w", err)}
	}
	rec, err := e.deps.Journal.Begin(ctx, journal.Intent{TID: e.term.TID, MID: e.term.MID, Kind: journal.KindSignIn, Medium: journal.MediumCard})
	if err != nil {
		return fmt.Errorf("signing in: %w", err)
	}
	ctx2 := context.WithoutCancel(ctx)
	resp, err := acq.SignIn(ctx, channels.SignInRequest{Key: e.key(rec)})
	if err != nil {
		to := journal.StateDeclined
		if channels.Classify(err) == channels.ClassNotSent {
			to = journal.StateNotSent
		}
		_, _ = e.deps.Journal.Move(ctx2, rec.Key(), journal.Change{To: to, LastError: err.Error()})
		return &Error{Code: CodeChannelUnavailable, Err: fmt.Errorf("signing in: %w", err)}
	}
	if resp.Code != channels.CodeApproved {
		_, _ = e.deps.Journal.Move(ctx2, rec.Key(), journal.Change{To: journal.StateDeclined, HostCode: resp.Code, HostMessage: resp.Message, HostTime: resp.HostTime})
		return &Error{Code: CodeSignInRefused, Err: fmt.Errorf("%w: %s %s", ErrSignInRefused, resp.Code, resp.Message)}
	}
	if _, err := e.deps.Journal.Move(ctx2, rec.Key(), journal.Change{To: journal.StateApproved, HostCode: resp.Code, HostMessage: resp.Message, HostTime: resp.HostTime}); err != nil {
		return fmt.Errorf("signing in: %w", err)
	}
	if _, err := e.deps.Journal.AdoptBatch(resp.Batch); err != nil {
		return fmt.Errorf("signing in: %w", err)
	}
	keys := pinpad.WorkingKeys{
		PIN:   pinpad.WorkingKey(resp.PINKey),
		MAC:   pinpad.WorkingKey(resp.MACKey),
		Track: pinpad.WorkingKey(resp.TrackKey),
	}
	if err := e.loadKeys(ctx, keys); err != nil {
		return fmt.Errorf("signing in: loading the working keys: %w", err)
	}
	e.keys = &keys
	e.signedOn.Store(e.today())
	e.deps.Logf("signed in: batch %s", resp.Batch)
	return nil
}

// Protect puts the engine into protection mode: it forgets today's
// sign-in and the working keys it held, erases the PIN pad's (when the
// PIN pad can; a PIN pad that cannot, or cannot be reached, is logged and
// its keys are useless without a sign-in), and signs in no more until
// Unprotect. It waits for an online exchange in progress.
func (e *Engine) Protect(ctx context.Context) error {
	e.protected.Store(true)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.keys = nil
	e.signedOn.Store("")
	pp, err := e.deps.PinPad(ctx)
	if err == nil {
		err = pp.EraseKeys(ctx)
	}
	if err != nil {
		return fmt.Errorf("erasing the PIN pad's working keys: %w", err)
	}
	return nil
}

// Hold puts the engine into protection mode without contacting anything
// (a terminal that starts protected): no sign-in until Unprotect; Protect
// erases the keys.
func (e *Engine) Hold() { e.protected.Store(true) }

// Unprotect lifts protection mode: the next card operation signs in for
// fresh working keys.
func (e *Engine) Unprotect() { e.protected.Store(false) }

// Protected reports whether the engine is in protection mode.
func (e *Engine) Protected() bool { return e.protected.Load() }

func (e *Engine) loadKeys(ctx context.Context, keys pinpad.WorkingKeys) error {
	pp, err := e.deps.PinPad(ctx)
	if err != nil {
		return err
	}
	return pp.LoadWorkingKeys(ctx, keys)
}

// ReloadKeys loads the working keys of today's sign-in into the PIN pad
// again (a restarted PIN pad has none); it signs in when there are none.
// The keys are held encrypted under the terminal master key only.
func (e *Engine) ReloadKeys(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.keys == nil || !e.SignedIn() {
		return e.signIn(ctx)
	}
	return e.loadKeys(ctx, *e.keys)
}

// executeCard sends a card sale, void or refund and journals its outcome.
func (e *Engine) executeCard(ctx context.Context, rec journal.Record, refs Refs) (journal.Record, error) {
	acq, err := e.deps.Channels.Acquirer(ctx)
	if err != nil {
		return e.outcome(ctx, rec, journal.Change{To: journal.StateNotSent, LastError: err.Error()})
	}
	details := journal.Change{}
	if rec.MaskedPAN == "" {
		details.MaskedPAN, details.EntryMode = refs.Card.MaskedPAN, refs.Card.EntryMode
	}
	key := e.key(rec)
	var resp channels.Response
	switch rec.Kind {
	case journal.KindSale:
		resp, err = acq.Sale(ctx, channels.CardSaleRequest{Key: key, Amount: int64(rec.Amount), Card: refs.Card, PINBlock: refs.PINBlock})
	case journal.KindVoid, journal.KindRefund:
		orig, gerr := e.deps.Journal.Get(*rec.Original)
		if gerr != nil {
			return e.outcome(ctx, rec, journal.Change{To: journal.StateNotSent, LastError: gerr.Error()})
		}
		origKey := e.key(orig)
		if rec.Kind == journal.KindVoid {
			resp, err = acq.Void(ctx, channels.VoidRequest{Key: key, Amount: int64(rec.Amount), Card: refs.Card, PINBlock: refs.PINBlock,
				Original: origKey, OriginalRRN: orig.RRN, OriginalAuthCode: orig.AuthCode})
		} else {
			details.RefundNo = key.RefundNo()
			resp, err = acq.Refund(ctx, channels.RefundRequest{Key: key, Amount: int64(rec.Amount), Card: refs.Card,
				Original: origKey, OriginalRRN: orig.RRN, OriginalDate: hostDate(orig), RefundNo: details.RefundNo})
		}
	default:
		return e.outcome(ctx, rec, journal.Change{To: journal.StateNotSent, LastError: fmt.Sprintf("a %s is not sent to the acquirer this way", rec.Kind)})
	}
	crashpoint.Hit(crashpoint.Answered)
	if err != nil {
		return e.cardNoAnswer(ctx, rec, details, err)
	}
	details.HostCode, details.HostMessage, details.RRN, details.AuthCode, details.HostTime = resp.Code, resp.Message, resp.RRN, resp.AuthCode, resp.HostTime
	details.To = journal.StateDeclined
	if resp.Approved() {
		details.To = journal.StateApproved
	}
	return e.outcome(ctx, rec, details)
}

func hostDate(rec journal.Record) string {
	t := rec.HostTime
	if t.IsZero() {
		t = rec.CreatedAt
	}
	return t.Format("0102")
}

// cardNoAnswer classifies a failed card request: not sent (nothing to
// resolve), or unknown, resolved at once when the host can be reached.
func (e *Engine) cardNoAnswer(ctx context.Context, rec journal.Record, c journal.Change, err error) (journal.Record, error) {
	if channels.Classify(err) == channels.ClassNotSent {
		c.To, c.LastError = journal.StateNotSent, err.Error()
		return e.outcome(ctx, rec, c)
	}
	c.To, c.LastError, c.HostMessage = journal.StateUnknown, err.Error(), "no answer from the host"
	c.ReversalReason = string(channels.ReasonNoResponse)
	if channels.Classify(err) == channels.ClassBadMAC {
		c.ReversalReason, c.HostMessage = string(channels.ReasonMACError), "the host's answer failed its MAC check"
	}
	e.deps.Logf("%s %s: %s: %v", rec.Kind, rec.Key(), c.HostMessage, err)
	done, jerr := e.outcome(ctx, rec, c)
	if jerr != nil {
		return done, jerr
	}
	resolved, rerr := e.resolveCard(context.WithoutCancel(ctx), done)
	if rerr != nil {
		e.deps.Logf("%s %s: %v (retried in the background and before the next card operation)", rec.Kind, rec.Key(), rerr)
	}
	return resolved, nil
}

// Reversal answers that resolve a record: approved, and the host saying
// it has no such original (it never booked it, so nothing is charged).
var reversalResolves = []string{channels.CodeApproved, channels.CodeNotFound, CodeInvalidTransaction}

// CodeInvalidTransaction is the acquirer's "invalid transaction" (12),
// which a host answers to a reversal of a key it never booked.
const CodeInvalidTransaction = "12"

// resolveCard resolves a card record of unknown outcome. A sale or void
// is reversed (0400, same trace, reason 98 no answer / A0 bad MAC / 06
// other): the reversal pending state is journaled, with its reason, before
// the reversal goes. A refund (0220) is not reversed: it is queried, and a
// refund the host never received is sent again under the same key and
// refund number, which the host books once.
func (e *Engine) resolveCard(ctx context.Context, rec journal.Record) (journal.Record, error) {
	acq, err := e.deps.Channels.Acquirer(ctx)
	if err != nil {
		return rec, err
	}
	if rec.Kind == journal.KindRefund {
		return e.resolveCardRefund(ctx, acq, rec)
	}
	if rec.State != journal.StateReversalPending {
		reason := rec.ReversalReason
		if reason == "" {
			reason = string(channels.ReasonNoResponse)
		}
		if rec, err = e.deps.Journal.Move(ctx, rec.Key(), journal.Change{To: journal.StateReversalPending, ReversalReason: reason}); err != nil {
			return rec, err
		}
	}
	crashpoint.Hit(crashpoint.Reversal)
	req := channels.ReverseRequest{Key: e.key(rec), Amount: int64(rec.Amount), Reason: channels.ReversalReason(rec.ReversalReason)}
	if rec.Original != nil {
		req.Original = channels.Key{TID: rec.Original.TID, MID: rec.MID, Batch: rec.Original.Batch, Trace: rec.Original.Trace}
	}
	resp, err := acq.Reverse(ctx, req)
	if err != nil {
		return e.failedAttempt(ctx, rec, fmt.Sprintf("reversal of %s not answered: %v", rec.Key(), err))
	}
	if !slices.Contains(reversalResolves, resp.Code) {
		return e.failedAttempt(ctx, rec, fmt.Sprintf("reversal of %s answered %s %s", rec.Key(), resp.Code, resp.Message))
	}
	done, err := e.deps.Journal.Move(ctx, rec.Key(), journal.Change{To: journal.StateReversed, HostCode: resp.Code, HostMessage: resp.Message, HostTime: resp.HostTime, Attempt: true})
	if err == nil {
		e.deps.Logf("reversed %s %s (%d fen): host answered %s", rec.Kind, rec.Key(), rec.Amount, resp.Code)
	}
	return done, err
}

func (e *Engine) resolveCardRefund(ctx context.Context, acq channels.Acquirer, rec journal.Record) (journal.Record, error) {
	if rec.State != journal.StateUnknown {
		var err error
		if rec, err = e.deps.Journal.Move(ctx, rec.Key(), journal.Change{To: journal.StateUnknown}); err != nil {
			return rec, err
		}
	}
	q, err := acq.Query(ctx, channels.QueryRequest{Key: e.key(rec)})
	if err != nil {
		return e.failedAttempt(ctx, rec, fmt.Sprintf("query of refund %s not answered: %v", rec.Key(), err))
	}
	r := q.Response
	switch q.Booking {
	case channels.BookingApproved:
		return e.deps.Journal.Move(ctx, rec.Key(), journal.Change{To: journal.StateApproved, HostCode: r.Code, HostMessage: r.Message, RRN: r.RRN, AuthCode: r.AuthCode, HostTime: r.HostTime, Attempt: true})
	case channels.BookingDeclined:
		return e.deps.Journal.Move(ctx, rec.Key(), journal.Change{To: journal.StateDeclined, HostCode: r.Code, HostMessage: r.Message, HostTime: r.HostTime, Attempt: true})
	case channels.BookingReversed, channels.BookingVoided:
		if rec, err = e.deps.Journal.Move(ctx, rec.Key(), journal.Change{To: journal.StateReversalPending}); err != nil {
			return rec, err
		}
		return e.deps.Journal.Move(ctx, rec.Key(), journal.Change{To: journal.StateReversed, HostMessage: "the host reports the refund " + string(q.Booking), Attempt: true})
	}
	// Not found: the host never received it; send it again, same key and
	// refund number.
	orig, err := e.deps.Journal.Get(*rec.Original)
	if err != nil {
		return rec, err
	}
	resp, err := acq.Refund(ctx, channels.RefundRequest{Key: e.key(rec), Amount: int64(rec.Amount), Original: e.key(orig),
		OriginalRRN: orig.RRN, OriginalDate: hostDate(orig), RefundNo: e.key(rec).RefundNo()})
	if err != nil {
		return e.failedAttempt(ctx, rec, fmt.Sprintf("refund %s sent again, not answered: %v", rec.Key(), err))
	}
	to := journal.StateDeclined
	if resp.Approved() {
		to = journal.StateApproved
	}
	return e.deps.Journal.Move(ctx, rec.Key(), journal.Change{To: to, HostCode: resp.Code, HostMessage: resp.Message, RRN: resp.RRN, AuthCode: resp.AuthCode, HostTime: resp.HostTime, Attempt: true})
}
