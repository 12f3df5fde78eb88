package txn

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/runtime/crashpoint"
	"github.com/posrt/posrt/runtime/journal"
)

// Terminal identifies the terminal to its hosts.
type Terminal struct {
	TID          string
	MID          string
	MerchantName string
}

// Policy sets how unknown outcomes are resolved.
type Policy struct {
	// ReversalAttempts is how many reversals (or wallet cancels) may fail
	// before the record is flagged and online operations of its channel
	// are refused until the host acknowledges it or a supervisor resolves
	// it by hand (3). Retries go on after that, never dropped.
	ReversalAttempts int
	// RetryBackoff is the wait before the second attempt, doubled after
	// each failure up to MaxBackoff (5s, 5m).
	RetryBackoff time.Duration
	MaxBackoff   time.Duration
	// WalletPollEvery and WalletPollFor are how often and how long a
	// wallet trade whose customer is still paying is queried before it is
	// cancelled (10s, 30s).
	WalletPollEvery time.Duration
	WalletPollFor   time.Duration
	// Settle sets when a batch must be settled.
	Settle SettlePolicy
}

func (p Policy) withDefaults() Policy {
	if p.ReversalAttempts == 0 {
		p.ReversalAttempts = 3
	}
	if p.RetryBackoff == 0 {
		p.RetryBackoff = 5 * time.Second
	}
	if p.MaxBackoff == 0 {
		p.MaxBackoff = 5 * time.Minute
	}
	if p.WalletPollEvery == 0 {
		p.WalletPollEvery = 10 * time.Second
	}
	if p.WalletPollFor == 0 {
		p.WalletPollFor = 30 * time.Second
	}
	p.Settle = p.Settle.withDefaults()
	return p
}

// Deps are the engine's collaborators.
type Deps struct {
	Journal  *journal.Journal
	Channels *Registry
	// PinPad returns the PIN pad's current client, for key loading.
	PinPad func(context.Context) (pinpad.PinPad, error)
	Policy Policy
	Now    func() time.Time
	Logf   func(format string, args ...any)
	// Sleep waits d or until ctx ends (tests shorten it); nil is a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Engine runs every money operation of the terminal through one path:
// journal the intent (synced), send, classify the answer, journal the
// outcome, and resolve an unknown outcome with its channel's resolver.
type Engine struct {
	term Terminal
	deps Deps

	mu       sync.Mutex // one online exchange at a time
	keys     *pinpad.WorkingKeys
	signedOn atomic.Value // string: local date of the last successful sign-in
	// protected: the terminal is in protection mode, its working keys
	// erased; no sign-in until it is lifted.
	protected atomic.Bool

	// inFlight holds the keys of operations begun in this process and not
	// yet executed or abandoned: their flows are still running (a card
	// being read), so the resolver leaves them alone. What a crashed
	// process left pending is not in it.
	flightMu sync.Mutex
	inFlight map[journal.Key]bool
}

// New returns an Engine; it sends nothing until asked.
func New(term Terminal, deps Deps) *Engine {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logf == nil {
		deps.Logf = func(string, ...any) {}
	}
	if deps.Sleep == nil {
		deps.Sleep = sleep
	}
	deps.Policy = deps.Policy.withDefaults()
	return &Engine{term: term, deps: deps, inFlight: map[journal.Key]bool{}}
}

func (e *Engine) fly(k journal.Key, on bool) {
	e.flightMu.Lock()
	defer e.flightMu.Unlock()
	if on {
		e.inFlight[k] = true
	} else {
		delete(e.inFlight, k)
	}
}

func (e *Engine) flying(k journal.Key) bool {
	e.flightMu.Lock()
	defer e.flightMu.Unlock()
	return e.inFlight[k]
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Errors the engine returns beside *Error.
var (
	ErrSignInRefused   = errors.New("sign-in refused by the host")
	ErrReversalPending = errors.New("a reversal is pending")
)

// Begin validates op, finds its original and journals its intent
// (created, synced): from here the operation has its key, reused on every
// attempt. A request id seen before returns *journal.RepeatedRequestError
// with the first record.
func (e *Engine) Begin(ctx context.Context, op Operation) (journal.Record, error) {
	if err := op.validate(); err != nil {
		return journal.Record{}, err
	}
	in := journal.Intent{
		TID: e.term.TID, MID: e.term.MID, Kind: op.Kind, Medium: op.Medium, Amount: op.Amount,
		RequestID: op.RequestID, Fingerprint: op.fingerprint(), Operator: op.Operator,
	}
	if !op.Original.isZero() {
		orig, err := e.original(op.Original)
		if err != nil {
			return journal.Record{}, err
		}
		in.Original, in.Medium = orig.Key(), orig.Medium
		if op.Kind == journal.KindVoid && in.Amount == 0 {
			in.Amount = orig.Amount // a void is for the whole sale
		}
	}
	if in.Medium != journal.MediumCash && in.Medium.Decided() {
		if err := e.deps.Channels.has(in.Medium); err != nil {
			return journal.Record{}, err
		}
	}
	if op.Kind.Money() {
		if why := e.settleDue(); why != "" {
			return journal.Record{}, refuse(CodeSettleFirst, "%s", why)
		}
		in.MaxBatchRecords = max(0, e.deps.Policy.Settle.MaxRecords)
	}
	rec, err := e.deps.Journal.Begin(ctx, in)
	if err == nil {
		e.fly(rec.Key(), true)
		crashpoint.Hit(crashpoint.Intent)
	}
	return rec, err
}

// Find returns the key of the record ref names: its trace in the current
// batch (or ref's batch), or its RRN.
func (e *Engine) Find(ref OriginalRef) (journal.Key, error) {
	if ref.isZero() {
		return journal.Key{}, refuse(CodeInvalidOperation, "name the transaction by its trace or RRN")
	}
	rec, err := e.original(ref)
	return rec.Key(), err
}

func (e *Engine) original(ref OriginalRef) (journal.Record, error) {
	if ref.Trace != "" {
		batch := ref.Batch
		if batch == "" {
			c, err := e.deps.Journal.Counters()
			if err != nil {
				return journal.Record{}, err
			}
			batch = c.Batch
		}
		rec, err := e.deps.Journal.Get(journal.Key{TID: e.term.TID, Batch: batch, Trace: ref.Trace})
		if errors.Is(err, journal.ErrNotFound) {
			return journal.Record{}, refuse(CodeOriginalNotFound, "no transaction with trace %s in batch %s", ref.Trace, batch)
		}
		if err == nil && ref.RRN != "" && rec.RRN != ref.RRN {
			return journal.Record{}, refuse(CodeOriginalNotFound, "trace %s in batch %s has RRN %s, not %s", ref.Trace, batch, rec.RRN, ref.RRN)
		}
		return rec, err
	}
	rec, err := e.deps.Journal.ByRRN(ref.RRN)
	if errors.Is(err, journal.ErrNotFound) {
		return journal.Record{}, refuse(CodeOriginalNotFound, "no approved transaction with RRN %s", ref.RRN)
	}
	return rec, err
}

// Abandon ends an operation that never reached its channel (the flow
// ended without executing it: a cancelled card read, a PIN timeout): the
// record becomes not sent, with why.
func (e *Engine) Abandon(ctx context.Context, key journal.Key, why error) (journal.Record, error) {
	defer e.fly(key, false)
	rec, err := e.deps.Journal.Get(key)
	if err != nil || rec.State != journal.StateCreated {
		return rec, err
	}
	return e.deps.Journal.Move(context.WithoutCancel(ctx), key, journal.Change{To: journal.StateNotSent, LastError: why.Error()})
}

// Execute sends the operation journaled under key with the flow's refs,
// once: it signs in if the day has none (cards), resolves what its channel
// left pending, sends, journals the outcome and resolves an unknown one.
// The returned record is the journaled outcome. An error with a record
// whose trace is set means the request may have reached the host and the
// record stays pending; an error with the record in state not sent means
// nothing left the terminal.
func (e *Engine) Execute(ctx context.Context, key journal.Key, refs Refs) (journal.Record, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	defer e.fly(key, false)
	rec, err := e.deps.Journal.Get(key)
	if err != nil {
		return journal.Record{}, err
	}
	if rec.State != journal.StateCreated {
		return rec, refuse(CodeAlreadyExecuted, "%s %s was already executed (%s): a flow executes its operation once", rec.Kind, rec.Key(), rec.State)
	}
	if e.protected.Load() && rec.Kind != journal.KindCash {
		// Protection mode came while the flow ran (a tamper edge): what
		// was not sent yet is not sent.
		why := refuse(CodeProtected, "the terminal went into protection mode before %s %s was sent: nothing was sent", rec.Kind, rec.Key())
		done, err := e.deps.Journal.Move(context.WithoutCancel(ctx), key, journal.Change{To: journal.StateNotSent, LastError: why.Error()})
		if err != nil {
			return rec, errors.Join(why, err)
		}
		return done, why
	}
	if !rec.Medium.Decided() {
		if rec, err = e.decide(ctx, rec, refs); err != nil {
			return rec, err
		}
	}
	if rec.Kind == journal.KindCash {
		return e.outcome(ctx, rec, journal.Change{To: journal.StateApproved, HostMessage: "cash entered"})
	}
	if err := e.prepare(ctx, rec); err != nil {
		done, jerr := e.deps.Journal.Move(context.WithoutCancel(ctx), key, journal.Change{To: journal.StateNotSent, LastError: err.Error()})
		if jerr != nil {
			return rec, errors.Join(err, jerr)
		}
		return done, err
	}
	if rec.Medium == journal.MediumCard {
		return e.executeCard(ctx, rec, refs)
	}
	return e.executeWallet(ctx, rec, refs)
}

// decide journals the medium of a sale that waited for the customer:
// refs.Medium, the card or the payment code's wallet the flow handed over.
// One it cannot decide, or whose channel this terminal lacks, ends not
// sent.
func (e *Engine) decide(ctx context.Context, rec journal.Record, refs Refs) (journal.Record, error) {
	var why error
	switch m := refs.Medium; {
	case m == journal.MediumCard && refs.PaymentCode != "", m.Wallet() && refs.Card.MaskedPAN != "":
		why = refuse(CodeInvalidOperation, "a sale is paid by a card or a payment code, not both")
	case m == journal.MediumCard && refs.Card.MaskedPAN == "", m.Wallet() && refs.PaymentCode == "",
		m != journal.MediumCard && !m.Wallet():
		why = refuse(CodeInvalidOperation, "the customer presented neither a card nor a payment code: nothing to pay with")
	default:
		why = e.deps.Channels.has(m)
	}
	if why != nil {
		done, err := e.deps.Journal.Move(context.WithoutCancel(ctx), rec.Key(), journal.Change{To: journal.StateNotSent, LastError: why.Error()})
		if err != nil {
			return rec, errors.Join(why, err)
		}
		return done, why
	}
	return e.deps.Journal.Decide(ctx, rec.Key(), refs.Medium)
}

// prepare makes the medium's channel ready for a new operation: signed in
// (cards), and nothing it left pending; a record whose reversal retries
// are exhausted refuses every online operation of its channel.
func (e *Engine) prepare(ctx context.Context, rec journal.Record) error {
	if rec.Medium == journal.MediumCard && !e.SignedIn() {
		if err := e.signIn(ctx); err != nil {
			return err
		}
	}
	return e.resolvePending(ctx, rec.Medium, rec.Key())
}

// outcome journals what the channel said; with it, the request may have
// reached the host, so the caller's cancellation no longer applies.
func (e *Engine) outcome(ctx context.Context, rec journal.Record, c journal.Change) (journal.Record, error) {
	done, err := e.deps.Journal.Move(context.WithoutCancel(ctx), rec.Key(), c)
	if err != nil {
		e.deps.Logf("%s %s: journaling the outcome %s failed, the record stays pending: %v", rec.Kind, rec.Key(), c.To, err)
		return rec, err
	}
	crashpoint.Hit(crashpoint.Outcome)
	return done, nil
}

// ResolvePending resolves every pending record whose retry is due (at
// boot, and in the background), per its channel's resolver.
func (e *Engine) ResolvePending(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.resolvePending(ctx, "", journal.Key{})
}

// resolvePending resolves the pending records of medium m (every medium
// when m is empty). Before a new operation (for, its own record, is set)
// every record of its channel is tried and one that stays pending is an
// error (the new operation is refused); in the background, records whose
// retry is not yet due are skipped.
func (e *Engine) resolvePending(ctx context.Context, m journal.Medium, next journal.Key) error {
	blocking := !next.IsZero()
	pending, err := e.deps.Journal.PendingExcept(next)
	if err != nil {
		return err
	}
	var errs []error
	for _, rec := range pending {
		if m != "" && rec.Medium != m || rec.Key() == next || e.flying(rec.Key()) {
			continue
		}
		if rec.Kind == journal.KindCash || rec.Kind == journal.KindSignIn || !rec.Medium.Decided() {
			// Nothing was sent for these (an undecided sale is decided,
			// synced, before it is sent): close them.
			if _, err := e.deps.Journal.Move(ctx, rec.Key(), journal.Change{To: journal.StateNotSent, LastError: "interrupted before it was sent"}); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if !blocking && !e.due(rec) {
			continue
		}
		if rec.Kind == journal.KindSettle {
			if s, ok, err := e.deps.Journal.ActiveSettlement(); err != nil || !ok {
				errs = append(errs, fmt.Errorf("settlement record %s is pending without its settlement: %v", rec.Key(), err))
			} else if _, err := e.finishSettlement(ctx, s); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		done, err := e.resolve(ctx, rec)
		if err == nil && done.State.Pending() {
			err = fmt.Errorf("%s %s is still %s", done.Kind, done.Key(), done.State)
		}
		if err != nil {
			errs = append(errs, e.blocked(done, err))
			if blocking {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// blocked turns a record that stays pending into the refusal the next
// operation of its channel gets.
func (e *Engine) blocked(rec journal.Record, err error) error {
	if rec.Flagged {
		return refuse(CodeReversalNotAcknowledged,
			"reversal not acknowledged: call the acquirer and quote terminal %s batch %s trace %s, %d fen (%s); a supervisor can resolve it by hand once the acquirer confirms: %v",
			rec.TID, rec.Batch, rec.Trace, int64(rec.Amount), rec.Medium, err)
	}
	return &Error{Code: CodeReversalPending, Err: fmt.Errorf("%w for %s %s: %w", ErrReversalPending, rec.Medium, rec.Key(), err)}
}

// due reports whether a pending record's next attempt is due: attempts
// back off from Policy.RetryBackoff, doubling up to MaxBackoff.
func (e *Engine) due(rec journal.Record) bool {
	if rec.Attempts == 0 {
		return true
	}
	wait := e.deps.Policy.RetryBackoff
	for i := 1; i < rec.Attempts && wait < e.deps.Policy.MaxBackoff; i++ {
		wait *= 2
	}
	wait = min(wait, e.deps.Policy.MaxBackoff)
	return !e.deps.Now().Before(rec.UpdatedAt.Add(wait))
}

// resolve runs rec's channel's resolver.
func (e *Engine) resolve(ctx context.Context, rec journal.Record) (journal.Record, error) {
	if rec.Medium == journal.MediumCard {
		return e.resolveCard(ctx, rec)
	}
	return e.resolveWallet(ctx, rec)
}

// failedAttempt journals a reversal, cancel or query that did not resolve
// rec, flagging it once Policy.ReversalAttempts have failed.
func (e *Engine) failedAttempt(ctx context.Context, rec journal.Record, why string) (journal.Record, error) {
	flag := rec.Attempts+1 >= e.deps.Policy.ReversalAttempts
	done, err := e.deps.Journal.Move(context.WithoutCancel(ctx), rec.Key(), journal.Change{To: rec.State, Attempt: true, Flag: flag, LastError: why})
	if err != nil {
		return rec, err
	}
	if flag && !rec.Flagged {
		e.deps.Logf("%s %s %s: %d attempts failed (%s): flagged, online %s operations refused until the host acknowledges it or a supervisor resolves it", done.Medium, done.Kind, done.Key(), done.Attempts, why, done.Medium)
	}
	return done, errors.New(why)
}

// ResolveByHand closes a pending record a supervisor has settled with the
// acquirer (by phone, by its report): the reason is journaled.
func (e *Engine) ResolveByHand(ctx context.Context, key journal.Key, reason string) (journal.Record, error) {
	if reason == "" {
		return journal.Record{}, refuse(CodeInvalidOperation, "a manual resolution needs its reason")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	rec, err := e.deps.Journal.Get(key)
	if err != nil {
		return journal.Record{}, err
	}
	if !rec.State.Pending() {
		return rec, refuse(CodeInvalidOperation, "%s is %s, not pending", key, rec.State)
	}
	if rec.State != journal.StateReversalPending {
		if rec, err = e.deps.Journal.Move(ctx, key, journal.Change{To: journal.StateReversalPending}); err != nil {
			return rec, err
		}
	}
	return e.deps.Journal.Move(ctx, key, journal.Change{To: journal.StateResolvedByHand, Note: reason})
}

// PendingCount returns how many records of each medium are pending.
func (e *Engine) PendingCount() (map[journal.Medium]int, error) {
	pending, err := e.deps.Journal.Pending()
	if err != nil {
		return nil, err
	}
	out := map[journal.Medium]int{}
	for _, r := range pending {
		out[r.Medium]++
	}
	return out, nil
}

// key returns the channel key of a record.
func (e *Engine) key(rec journal.Record) channels.Key {
	return channels.Key{TID: rec.TID, MID: rec.MID, Batch: rec.Batch, Trace: rec.Trace}
}

// HostView is what a channel says it holds of a record.
type HostView struct {
	// State is the acquirer's booking (not_found, approved, declined,
	// reversed, voided) or the wallet's trade state.
	State   string `json:"state"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	Amount  int64  `json:"amount"`
	RRN     string `json:"rrn,omitempty"`
	TradeNo string `json:"trade_no,omitempty"`
}

// Query asks the record's channel what it holds under the record's key (a
// cashier's or cash register's query). It changes nothing: a pending
// record is resolved by its resolver, not by a query.
func (e *Engine) Query(ctx context.Context, key journal.Key) (journal.Record, HostView, error) {
	rec, err := e.deps.Journal.Get(key)
	if err != nil {
		return journal.Record{}, HostView{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case rec.Medium == journal.MediumCash || rec.Kind == journal.KindSignIn:
		return rec, HostView{}, refuse(CodeInvalidOperation, "a %s is not held by a host", rec.Kind)
	case rec.Medium == journal.MediumCard:
		acq, err := e.deps.Channels.Acquirer(ctx)
		if err != nil {
			return rec, HostView{}, err
		}
		q, err := acq.Query(ctx, channels.QueryRequest{Key: e.key(rec)})
		if err != nil {
			return rec, HostView{}, fmt.Errorf("querying the acquirer: %w", err)
		}
		r := q.Response
		return rec, HostView{State: string(q.Booking), Code: r.Code, Message: r.Message, Amount: r.Amount, RRN: r.RRN}, nil
	}
	w, err := e.deps.Channels.Wallet(ctx, rec.Medium)
	if err != nil {
		return rec, HostView{}, err
	}
	orderNo := rec.OrderNo
	if orderNo == "" {
		orderNo = e.key(rec).OrderNo()
	}
	if rec.Kind == journal.KindRefund {
		orig, err := e.deps.Journal.Get(*rec.Original)
		if err != nil {
			return rec, HostView{}, err
		}
		r, err := w.RefundQuery(ctx, channels.RefundQueryRequest{Key: e.key(rec), OrderNo: orig.OrderNo, RefundNo: e.key(rec).RefundNo()})
		if err != nil {
			return rec, HostView{}, fmt.Errorf("querying the wallet: %w", err)
		}
		return rec, HostView{State: string(r.State), Code: r.Code, Message: r.Message, Amount: r.Amount, TradeNo: r.RefundID}, nil
	}
	t, err := w.Query(ctx, channels.OrderRequest{Key: e.key(rec), OrderNo: orderNo})
	if err != nil {
		return rec, HostView{}, fmt.Errorf("querying the wallet: %w", err)
	}
	return rec, HostView{State: string(t.State), Code: t.Code, Message: t.Message, Amount: t.Paid, TradeNo: t.TradeNo}, nil
}
