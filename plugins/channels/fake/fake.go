package fake

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/internal/faults"
	"github.com/posrt/posrt/plugins/internal/ledger"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
	"github.com/posrt/posrt/plugins/pinpad/testcards"
)

// Response codes the fake answers beside those named in package channels.
const (
	CodeInvalidTransaction = "12"
	CodeInvalidAmount      = "13"
	CodeInvalidCard        = "14"
	CodeExpiredCard        = "54"
)

// Fake is a bank-card acquirer host that answers in process: it signs
// terminals in, authorizes sales of the pinpadtest cards, and books every
// event in a durable ledger before it answers. Its behaviour is set by the
// configuration keys documented in the package README.
type Fake struct {
	faults faults.Faults
	now    func() time.Time

	mu     sync.Mutex
	cfg    config
	st     *state
	sec    channels.Security   // nil until UseSecurity
	ledger *ledger.File[Entry] // nil: in memory only
	closed bool
}

var (
	_ channels.Acquirer     = (*Fake)(nil)
	_ channels.SecurityUser = (*Fake)(nil)
)

type config struct {
	ledgerPath string
	sync       bool
	tmk        []byte
	declines   map[string]bool
	lose       map[int64]bool
	badMAC     map[int64]bool
	batch      string
	mac        bool
	hostDown   bool
	// unbalanced makes every settlement answer unbalanced, as a host
	// whose books differ from the terminal's, so a batch upload follows.
	unbalanced bool
	// reversalCode is what the host answers to every reversal.
	reversalCode string
}

func defaultConfig() config {
	return config{
		sync:     true,
		tmk:      testcards.TestTMK(),
		declines: map[string]bool{channels.CodeInsufficientFunds: true},
		lose:     map[int64]bool{},
		badMAC:   map[int64]bool{},
		batch:    "000001",
		mac:      true,
		// 00: every reversal is acknowledged.
		reversalCode: channels.CodeApproved,
	}
}

// NewFake returns a fake host with the default configuration and an
// in-memory ledger. It does no I/O; Configure opens the ledger.
func NewFake() *Fake {
	st := newState()
	st.prune = true
	return &Fake{now: time.Now, cfg: defaultConfig(), st: st}
}

// SetClock replaces the host's clock (tests fix it).
func (f *Fake) SetClock(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

// SetExit replaces how an injected crash ends the process (tests record it).
func (f *Fake) SetExit(exit func(code int)) { f.faults.Exit = exit }

// LastRRN is the sequence number of the last RRN the host issued.
func (f *Fake) LastRRN() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.lastRRN
}

// Name is the fake's name, as posrt serves it (posrt plugin serve
// fake-acquirer).
const Name = "fake-acquirer"

// fakeInfo is what the Fake's Info reports.
func fakeInfo() base.Info {
	return base.Info{Kind: base.KindAcquirer, Name: Name, Version: "0.1.0", APIVersions: channels.APIVersions}
}

// Info implements base.Base.
func (f *Fake) Info(context.Context) (base.Info, error) { return fakeInfo(), nil }

// Configure implements base.Base. It checks every key, then opens the
// ledger (if "ledger" is set) and replays it to rebuild the host's state.
func (f *Fake) Configure(_ context.Context, apiVersion string, config map[string]string) error {
	cfg, fs, err := faults.Prepare(fakeInfo(), apiVersion, config, parseConfig)
	if err != nil {
		return err
	}
	st := newState()
	st.prune = true
	var fh *ledger.File[Entry]
	if cfg.ledgerPath != "" {
		if fh, err = ledger.OpenFrom(cfg.ledgerPath, cfg.sync, validEntry, st.restore, st.apply); err != nil {
			return err
		}
	}
	f.faults.Set(fs)
	f.mu.Lock()
	old := f.ledger
	f.cfg, f.st, f.ledger, f.closed = cfg, st, fh, false
	f.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	return nil
}

// Health implements base.Base; the fake host is always idle.
func (f *Fake) Health(context.Context) (base.Health, error) {
	return base.Health{State: base.StateIdle}, nil
}

// Close closes the ledger file. The Fake must not be used afterwards, except
// to Configure it again.
func (f *Fake) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	if f.ledger == nil {
		return nil
	}
	err := f.ledger.Close()
	f.ledger = nil
	return err
}

// Booked returns the sale, void or refund booked under key, with its
// current state (Reversed, Voided, Refunded).
func (f *Fake) Booked(key channels.Key) (Entry, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.st.booked[bookKeyOf(key)]
	if !ok {
		return Entry{}, false
	}
	return *b, true
}

// UseSecurity implements channels.SecurityUser: the plugin part of the
// fake computes the MAC of each request, and checks the MAC of each answer,
// through sec (the runtime's PIN pad). The glue calls it before the first
// request; a test calling the fake in process calls it itself.
func (f *Fake) UseSecurity(sec channels.Security) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sec = sec
}

// SignIn implements channels.Acquirer: fresh working keys under the TMK,
// the host's batch for the TID and the host's clock.
func (f *Fake) SignIn(ctx context.Context, req channels.SignInRequest) (channels.SignInResponse, error) {
	if err := f.faults.Call(ctx); err != nil {
		return channels.SignInResponse{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cfg.hostDown {
		return channels.SignInResponse{}, fmt.Errorf("sign-in of %s: host down (fault injected): %w", req.Key.TID, channels.ErrHostRejected)
	}
	tid, mid := req.Key.TID, req.Key.MID
	if !isAlnum(tid, 8) || !isAlnum(mid, 15) {
		return channels.SignInResponse{
			Code:     channels.CodeInvalidTerminal,
			Message:  "invalid terminal: the TID must be 8 letters or digits and the MID 15",
			HostTime: f.now().UTC(),
		}, nil
	}
	batch := f.st.batches[tid]
	if batch == "" {
		batch = f.cfg.batch
	}
	e := Entry{Op: OpSignIn, Time: f.now().UTC(), TID: tid, MID: mid, Batch: batch}
	resp := channels.SignInResponse{Code: channels.CodeApproved, Message: "signed in", Batch: batch, HostTime: e.Time}
	for _, k := range []struct {
		stored *string
		wk     *channels.WorkingKey
	}{{&e.PINKey, &resp.PINKey}, {&e.MACKey, &resp.MACKey}, {&e.TrackKey, &resp.TrackKey}} {
		enc, kcv, err := cardcrypto.Wrap(f.cfg.tmk, cardcrypto.NewKey())
		if err != nil {
			return channels.SignInResponse{}, fmt.Errorf("wrapping working key: %w", err)
		}
		*k.stored = wrappedKey{enc, kcv}.String()
		*k.wk = channels.WorkingKey{Encrypted: enc, CheckValue: kcv}
	}
	if err := f.book(e); err != nil {
		return channels.SignInResponse{}, fmt.Errorf("recording sign-in of %s: %w", tid, err)
	}
	return resp, nil
}

// exchange plays one MACed exchange: the plugin part MACs the request
// (the bytes req) through Security, the host part checks that MAC with the
// session MAC key and, if it verifies, runs host with f.mu held; host
// returns the answer and the bytes its MAC covers. The host part MACs
// them (and, for an amount listed in "bad_mac", corrupts that MAC), and
// the plugin part checks it through Security. A request whose MAC does
// not verify is answered refused(A0) and nothing is booked.
func exchange[T any](ctx context.Context, f *Fake, what string, k channels.Key, amount int64, req []byte,
	refused func(code, msg string) T, host func(s session) (T, []byte, error)) (T, error) {
	var zero T
	if err := f.faults.Call(ctx); err != nil {
		return zero, err
	}
	f.mu.Lock()
	cfg, sec := f.cfg, f.sec
	_, err := f.session(what, k)
	f.mu.Unlock()
	if err != nil {
		return zero, err
	}
	if cfg.hostDown {
		return zero, fmt.Errorf("%s %s: host down (fault injected): %w", what, k, channels.ErrHostRejected)
	}
	var mac []byte
	if cfg.mac {
		if sec == nil {
			return zero, fmt.Errorf("%s %s: no security service to compute the MAC with: %w", what, k, channels.ErrNotSent)
		}
		if mac, err = sec.CalculateMAC(ctx, req); err != nil {
			return zero, fmt.Errorf("%s %s: computing the request's MAC: %v: %w", what, k, err, channels.ErrNotSent)
		}
	}

	f.mu.Lock()
	s, err := f.session(what, k)
	if err != nil {
		f.mu.Unlock()
		return zero, err
	}
	var macKey []byte
	if cfg.mac {
		if macKey, err = s.macKey.unwrap(f.cfg.tmk); err != nil {
			f.mu.Unlock()
			return refused(channels.CodeInvalidTerminal, "invalid terminal: its session keys do not match this host's TMK; sign in again"), nil
		}
		if want, err := cardcrypto.MAC(macKey, req); err != nil || !hmac.Equal(want, mac) {
			f.mu.Unlock()
			return refused(channels.CodeMACError, "MAC error: the request's MAC does not verify"), nil
		}
	}
	answer, covered, err := host(s)
	bad := f.cfg.badMAC[amount] && what != OpReverse // the reversal that follows gets a good MAC
	f.mu.Unlock()
	if err != nil || !cfg.mac {
		return answer, err
	}
	if mac, err = cardcrypto.MAC(macKey, covered); err != nil {
		return zero, fmt.Errorf("%s %s: computing the answer's MAC: %w", what, k, err)
	}
	if bad {
		mac[0] ^= 0x01
	}
	if err := sec.VerifyMAC(ctx, covered, mac); err != nil {
		return zero, fmt.Errorf("%s %s: checking the answer's MAC: %v: %w", what, k, err, channels.ErrBadMAC)
	}
	return answer, nil
}

// macData is what a MAC covers: the fields joined by "|".
func macData(fields ...any) []byte {
	var b strings.Builder
	for i, x := range fields {
		if i > 0 {
			b.WriteByte('|')
		}
		switch x := x.(type) {
		case []byte:
			b.WriteString(hex.EncodeToString(x))
		case time.Time:
			b.WriteString(strconv.FormatInt(x.Unix(), 10))
		default:
			fmt.Fprint(&b, x)
		}
	}
	return []byte(b.String())
}

func keyFields(k channels.Key) []any { return []any{k.TID, k.MID, k.Batch, k.Trace} }

func responseData(op string, k channels.Key, r channels.Response) []byte {
	return macData(append([]any{op}, append(keyFields(k), r.Code, r.RRN, r.AuthCode, r.Amount, r.HostTime)...)...)
}

// financial runs a sale, void, refund or reversal: request fields after
// the key, and the host part answering a Response.
func (f *Fake) financial(ctx context.Context, op string, k channels.Key, amount int64, fields []any, host func(s session, fp string) (channels.Response, error)) (channels.Response, error) {
	req := macData(append(append([]any{op}, keyFields(k)...), append([]any{amount}, fields...)...)...)
	sum := sha256.Sum256(req)
	fp := hex.EncodeToString(sum[:16]) // the request's content: a retry carries the same
	refused := func(code, msg string) channels.Response {
		return channels.Response{Code: code, Message: msg, Amount: amount, HostTime: f.now().UTC()}
	}
	return exchange(ctx, f, op, k, amount, req, refused, func(s session) (channels.Response, []byte, error) {
		r, err := host(s, fp)
		return r, responseData(op, k, r), err
	})
}

// Sale implements channels.Acquirer.
func (f *Fake) Sale(ctx context.Context, req channels.CardSaleRequest) (channels.Response, error) {
	fields := []any{req.Card.MaskedPAN, req.Card.EncryptedTrack, req.PINBlock}
	return f.financial(ctx, OpSale, req.Key, req.Amount, fields, func(s session, fp string) (channels.Response, error) {
		if r, done, err := f.again(OpSale, req.Key, req.Amount, fp); done {
			return r, err
		}
		e := f.entry(OpSale, req.Key, req.Amount)
		e.Fingerprint = fp
		code, msg := f.refuse(s, req.Key)
		if code == "" {
			code, msg, e.MaskedPAN = f.authorize(s, req)
		}
		return f.bookAndAnswer(e, code, msg)
	})
}

// authorize plays the issuer: card, expiry, PIN, decline rule.
func (f *Fake) authorize(s session, req channels.CardSaleRequest) (code, msg, maskedPAN string) {
	if req.Amount <= 0 {
		return CodeInvalidAmount, "invalid amount: a sale must be more than 0 fen", ""
	}
	if len(req.Card.EncryptedTrack) == 0 {
		return CodeInvalidCard, "invalid card: no track data", ""
	}
	trackKey, err := s.trackKey.unwrap(f.cfg.tmk)
	if err != nil {
		return channels.CodeInvalidTerminal, "invalid terminal: its session keys do not match this host's TMK; sign in again", ""
	}
	pinKey, err := s.pinKey.unwrap(f.cfg.tmk)
	if err != nil {
		return channels.CodeInvalidTerminal, "invalid terminal: its session keys do not match this host's TMK; sign in again", ""
	}
	track, err := cardcrypto.DecryptTrack(trackKey, req.Card.EncryptedTrack)
	if err != nil {
		return CodeInvalidCard, "invalid card: track data unreadable", ""
	}
	pan, expiry, err := cardcrypto.ParseTrack(track)
	if err != nil {
		return CodeInvalidCard, "invalid card: track data unreadable", ""
	}
	maskedPAN = cardcrypto.MaskPAN(pan)
	card, ok := testcards.CardByPAN(pan)
	if !ok || !IsDigits(expiry, 4) {
		return CodeInvalidCard, "invalid card: unknown card number", maskedPAN
	}
	if expiry < f.now().Format("0601") {
		return CodeExpiredCard, message(CodeExpiredCard), maskedPAN
	}
	if pin, err := cardcrypto.PIN(pinKey, req.PINBlock, pan); err != nil || pin != card.PIN {
		return channels.CodeWrongPIN, message(channels.CodeWrongPIN), maskedPAN
	}
	if suffix := fmt.Sprintf("%02d", req.Amount%100); f.cfg.declines[suffix] {
		return suffix, message(suffix), maskedPAN
	}
	return channels.CodeApproved, message(channels.CodeApproved), maskedPAN
}

// Void implements channels.Acquirer: a same-batch, full-amount cancellation.
func (f *Fake) Void(ctx context.Context, req channels.VoidRequest) (channels.Response, error) {
	fields := append(keyFields(req.Original), req.OriginalRRN, req.OriginalAuthCode, req.Card.MaskedPAN, req.Card.EncryptedTrack, req.PINBlock)
	return f.financial(ctx, OpVoid, req.Key, req.Amount, fields, func(s session, fp string) (channels.Response, error) {
		if r, done, err := f.again(OpVoid, req.Key, req.Amount, fp); done {
			return r, err
		}
		e := f.entry(OpVoid, req.Key, req.Amount)
		e.Fingerprint = fp
		e.OrigTID, e.OrigBatch, e.OrigTrace, e.OrigRRN = req.Original.TID, req.Original.Batch, req.Original.Trace, req.OriginalRRN
		code, msg := f.refuse(s, req.Key)
		if code == "" {
			code, msg = f.checkVoid(req, &e)
		}
		return f.bookAndAnswer(e, code, msg)
	})
}

func (f *Fake) checkVoid(req channels.VoidRequest, e *Entry) (code, msg string) {
	orig, code, msg := f.originalSale(req.Key.TID, req.Original, req.OriginalRRN, e)
	if orig == nil {
		return code, msg
	}
	switch {
	case req.OriginalAuthCode != "" && req.OriginalAuthCode != orig.AuthCode:
		return channels.CodeNotFound, "original transaction not found: the authorization code differs"
	case orig.Voided:
		return CodeInvalidTransaction, "invalid transaction: the original is already voided"
	case orig.Refunded > 0:
		return CodeInvalidTransaction, "invalid transaction: the original is partly refunded"
	case orig.Batch != req.Key.Batch || orig.Batch != f.st.batches[orig.TID]:
		return CodeInvalidTransaction, "invalid transaction: the original is not in the current batch, refund it instead"
	case orig.Amount != req.Amount:
		return CodeInvalidTransaction, "invalid transaction: a void must be for the full sale amount"
	}
	return channels.CodeApproved, message(channels.CodeApproved)
}

// originalSale finds the sale that a void or refund by terminal tid
// refers to, by its key or else its RRN, and copies the sale's identity
// into e. It returns the sale, or nil and the code and message that refuse
// the request when there is no such sale, it was not approved or it was
// reversed.
func (f *Fake) originalSale(tid string, original channels.Key, rrn string, e *Entry) (orig *Entry, code, msg string) {
	orig, ok := f.st.original(tid, original, rrn)
	if !ok {
		return nil, channels.CodeNotFound, "original transaction not found"
	}
	e.OrigTID, e.OrigBatch, e.OrigTrace, e.OrigRRN, e.MaskedPAN = orig.TID, orig.Batch, orig.Trace, orig.RRN, orig.MaskedPAN
	switch {
	case orig.Op != OpSale || !orig.Approved():
		return nil, CodeInvalidTransaction, "invalid transaction: the original is not an approved sale"
	case orig.Reversed:
		return nil, CodeInvalidTransaction, "invalid transaction: the original was reversed"
	}
	return orig, "", ""
}

// Refund implements channels.Acquirer: full or partial, once per refund number.
func (f *Fake) Refund(ctx context.Context, req channels.RefundRequest) (channels.Response, error) {
	fields := append(keyFields(req.Original), req.OriginalRRN, req.OriginalDate, req.RefundNo, req.Card.MaskedPAN, req.Card.EncryptedTrack)
	return f.financial(ctx, OpRefund, req.Key, req.Amount, fields, func(s session, fp string) (channels.Response, error) {
		if r, done, err := f.again(OpRefund, req.Key, req.Amount, fp); done {
			return r, err
		}
		if req.RefundNo != "" {
			if k, ok := f.st.refundNos[refundNoKey(req.Key.TID, req.RefundNo)]; ok && !f.st.booked[k].Reversed {
				prev := f.st.booked[k]
				if prev.Amount != req.Amount {
					return f.duplicate(req.Amount, "refund number already used for another amount"), nil
				}
				return f.answer(*prev)
			}
		}
		e := f.entry(OpRefund, req.Key, req.Amount)
		e.Fingerprint = fp
		e.OrigTID, e.OrigBatch, e.OrigTrace, e.OrigRRN, e.RefundNo = req.Original.TID, req.Original.Batch, req.Original.Trace, req.OriginalRRN, req.RefundNo
		code, msg := f.refuse(s, req.Key)
		if code == "" {
			code, msg = f.checkRefund(req, &e)
		}
		return f.bookAndAnswer(e, code, msg)
	})
}

func (f *Fake) checkRefund(req channels.RefundRequest, e *Entry) (code, msg string) {
	orig, code, msg := f.originalSale(req.Key.TID, req.Original, req.OriginalRRN, e)
	if orig == nil {
		return code, msg
	}
	switch {
	case orig.Voided:
		return CodeInvalidTransaction, "invalid transaction: the original was voided"
	case req.Amount <= 0:
		return CodeInvalidAmount, "invalid amount: a refund must be more than 0 fen"
	case req.Amount > orig.Amount-orig.Refunded:
		return CodeInvalidAmount, fmt.Sprintf("invalid amount: refund exceeds refundable amount (%d fen left)", orig.Amount-orig.Refunded)
	}
	return channels.CodeApproved, message(channels.CodeApproved)
}

// Reverse implements channels.Acquirer. A reversal is acknowledged (00),
// even for a key the host never booked, and reversing twice is harmless;
// with "reversal_code" set the host answers that code instead and books
// nothing.
func (f *Fake) Reverse(ctx context.Context, req channels.ReverseRequest) (channels.Response, error) {
	fields := append([]any{req.Reason}, keyFields(req.Original)...)
	return f.financial(ctx, OpReverse, req.Key, req.Amount, fields, func(session, string) (channels.Response, error) {
		now := f.now().UTC()
		if code := f.cfg.reversalCode; code != channels.CodeApproved {
			return channels.Response{Code: code, Message: message(code) + " (fault injected)", Amount: req.Amount, HostTime: now}, nil
		}
		k := bookKeyOf(req.Key)
		ack := channels.Response{Code: channels.CodeApproved, Amount: req.Amount, HostTime: now}
		b, booked := f.st.booked[k]
		switch {
		case booked && b.Reversed, !booked && f.st.early[k]:
			ack.Message = "already reversed"
			if booked {
				ack.RRN = b.RRN
			}
			return ack, nil
		case booked:
			ack.Message, ack.RRN = "reversed", b.RRN
		default:
			ack.Message = "nothing to reverse: the host never received this transaction"
		}
		e := Entry{Op: OpReverse, Time: now, TID: req.Key.TID, MID: req.Key.MID, Batch: req.Key.Batch, Trace: req.Key.Trace, Amount: req.Amount, Reason: string(req.Reason)}
		if err := f.book(e); err != nil {
			return channels.Response{}, fmt.Errorf("recording reversal of %s: %w", req.Key, err)
		}
		return ack, nil
	})
}

// Query implements channels.Acquirer: what the host booked under the key.
func (f *Fake) Query(ctx context.Context, req channels.QueryRequest) (channels.QueryResponse, error) {
	data := macData(append([]any{"query"}, keyFields(req.Key)...)...)
	refused := func(code, msg string) channels.QueryResponse {
		return channels.QueryResponse{Response: channels.Response{Code: code, Message: msg, HostTime: f.now().UTC()}}
	}
	return exchange(ctx, f, "query", req.Key, 0, data, refused, func(session) (channels.QueryResponse, []byte, error) {
		q := f.query(req.Key)
		return q, append(macData("query", q.Booking), responseData("query", req.Key, q.Response)...), nil
	})
}

func (f *Fake) query(k channels.Key) channels.QueryResponse {
	bk := bookKeyOf(k)
	b, ok := f.st.booked[bk]
	switch {
	case !ok && f.st.early[bk]:
		return channels.QueryResponse{Booking: channels.BookingReversed, Response: channels.Response{
			Code: channels.CodeNotFound, Message: "reversed before the host received it", HostTime: f.now().UTC(),
		}}
	case !ok:
		return channels.QueryResponse{Booking: channels.BookingNotFound, Response: channels.Response{
			Code: channels.CodeNotFound, Message: message(channels.CodeNotFound), HostTime: f.now().UTC(),
		}}
	}
	q := channels.QueryResponse{Response: b.response()}
	switch {
	case b.Reversed:
		q.Booking = channels.BookingReversed
	case b.Voided:
		q.Booking = channels.BookingVoided
	case b.Approved():
		q.Booking = channels.BookingApproved
	default:
		q.Booking = channels.BookingDeclined
	}
	return q
}

func totalsData(t channels.Totals) []any {
	return []any{t.SaleCount, t.SaleAmount, t.VoidCount, t.VoidAmount, t.RefundCount, t.RefundAmount}
}

// Settle implements channels.Acquirer: compares the terminal's totals with
// the host's for TID + batch (Medium is not compared: all the fake's are
// card totals), then advances the host's batch, once.
func (f *Fake) Settle(ctx context.Context, req channels.SettleRequest) (channels.SettleResponse, error) {
	data := macData(append(append([]any{OpSettle}, keyFields(req.Key)...), totalsData(req.Totals)...)...)
	refused := func(code, msg string) channels.SettleResponse {
		return channels.SettleResponse{Code: code, Message: msg, HostTime: f.now().UTC()}
	}
	return exchange(ctx, f, "settlement", req.Key, 0, data, refused, func(session) (channels.SettleResponse, []byte, error) {
		r, err := f.settle(req)
		covered := macData(append([]any{OpSettle, r.Code, r.Balanced, r.HostTime}, totalsData(r.HostTotals)...)...)
		return r, covered, err
	})
}

func (f *Fake) settle(req channels.SettleRequest) (channels.SettleResponse, error) {
	tid, batch := req.Key.TID, req.Key.Batch
	if s, ok := f.st.settled[[2]string{tid, batch}]; ok {
		return s.settleResponse(), nil
	}
	host := f.st.totals(tid, batch)
	term := req.Totals
	term.Medium = host.Medium
	e := Entry{Op: OpSettle, Time: f.now().UTC(), TID: tid, MID: req.Key.MID, Batch: batch, Trace: req.Key.Trace, Code: channels.CodeApproved}
	e.Balanced = host == term && !f.cfg.unbalanced
	e.HostTotals = &host
	e.Message = "balanced"
	switch {
	case host == term && !e.Balanced:
		e.Message = "unbalanced (fault injected): upload the batch"
	case !e.Balanced:
		e.Message = fmt.Sprintf("unbalanced: the host has %d sales for %d fen, %d voids for %d fen and %d refunds for %d fen",
			host.SaleCount, host.SaleAmount, host.VoidCount, host.VoidAmount, host.RefundCount, host.RefundAmount)
	}
	e.NextBatch = f.st.batches[tid]
	if batch >= e.NextBatch {
		e.NextBatch = NextBatch(batch)
	}
	if err := f.book(e); err != nil {
		return channels.SettleResponse{}, fmt.Errorf("recording settlement of %s: %w", req.Key, err)
	}
	return e.settleResponse(), nil
}

// BatchUpload implements channels.Acquirer: the records are accepted and
// recorded (their count, per TID and batch); a message resent under the
// same key is recorded once.
func (f *Fake) BatchUpload(ctx context.Context, req channels.BatchUploadRequest) (channels.BatchUploadResponse, error) {
	if n := len(req.Records); n > channels.MaxUploadRecords {
		return channels.BatchUploadResponse{}, fmt.Errorf("batch upload %s: %d records, at most %d fit one message: %w", req.Key, n, channels.MaxUploadRecords, channels.ErrBadRequest)
	}
	fields := append([]any{OpUpload}, keyFields(req.Key)...)
	fields = append(fields, req.Last)
	for _, r := range req.Records {
		fields = append(fields, append(keyFields(r.Key), r.Kind, r.Amount, r.MaskedPAN, r.RRN, r.AuthCode)...)
	}
	refused := func(code, msg string) channels.BatchUploadResponse {
		return channels.BatchUploadResponse{Code: code, Message: msg}
	}
	return exchange(ctx, f, "batch upload", req.Key, 0, macData(fields...), refused, func(session) (channels.BatchUploadResponse, []byte, error) {
		ok := channels.BatchUploadResponse{Code: channels.CodeApproved, Message: "accepted"}
		covered := macData(append(append([]any{OpUpload}, keyFields(req.Key)...), ok.Code)...)
		if f.st.uploadKeys[bookKeyOf(req.Key)] {
			return ok, covered, nil
		}
		e := Entry{Op: OpUpload, Time: f.now().UTC(), TID: req.Key.TID, MID: req.Key.MID, Batch: req.Key.Batch, Trace: req.Key.Trace,
			Code: ok.Code, Count: len(req.Records), Last: req.Last}
		if err := f.book(e); err != nil {
			return channels.BatchUploadResponse{}, nil, fmt.Errorf("recording batch upload %s: %w", req.Key, err)
		}
		return ok, covered, nil
	})
}

// Uploaded returns how many batch-upload records the host holds for TID +
// batch, and whether the last message of the upload has come.
func (f *Fake) Uploaded(tid, batch string) (records int, last bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.st.uploads[[2]string{tid, batch}]
	return u.records, u.last
}

// session checks the key's form and that its TID is signed in.
func (f *Fake) session(op string, k channels.Key) (session, error) {
	if !isAlnum(k.TID, 8) || !IsDigits(k.Batch, 6) || !IsDigits(k.Trace, 6) {
		return session{}, fmt.Errorf("%s %s: want an 8-character TID, 6-digit batch and 6-digit trace: %w", op, k, channels.ErrBadRequest)
	}
	s, ok := f.st.sessions[k.TID]
	if !ok {
		return session{}, fmt.Errorf("%s %s: %w", op, k, channels.ErrNotSignedIn)
	}
	return s, nil
}

// again answers a request whose key is already booked (or reversed): the
// booked answer for a true retry, 94 duplicate otherwise. done is false
// when the key is new.
func (f *Fake) again(op string, k channels.Key, amount int64, fp string) (r channels.Response, done bool, err error) {
	bk := bookKeyOf(k)
	b, ok := f.st.booked[bk]
	switch {
	case !ok && f.st.early[bk]:
		return f.duplicate(amount, "key already reversed"), true, nil
	case !ok:
		return channels.Response{}, false, nil
	case b.Op != op || b.Amount != amount || b.Fingerprint != "" && b.Fingerprint != fp:
		return f.duplicate(amount, "key already used for another request"), true, nil
	case b.Reversed:
		return f.duplicate(amount, "key already reversed"), true, nil
	}
	r, err = f.answer(*b)
	return r, true, err
}

func (f *Fake) duplicate(amount int64, why string) channels.Response {
	return channels.Response{Code: channels.CodeDuplicate, Message: "duplicate transaction: " + why, Amount: amount, HostTime: f.now().UTC()}
}

// refuse declines, before any card check, a request from a terminal whose
// merchant differs from its sign-in or whose batch is already settled.
func (f *Fake) refuse(s session, k channels.Key) (code, msg string) {
	if k.MID != s.mid {
		return channels.CodeInvalidMerchant, "invalid merchant: the MID differs from the terminal's sign-in"
	}
	if _, ok := f.st.settled[[2]string{k.TID, k.Batch}]; ok {
		return CodeInvalidTransaction, "invalid transaction: batch already settled, sign in for the new batch"
	}
	return "", ""
}

func (f *Fake) entry(op string, k channels.Key, amount int64) Entry {
	return Entry{Op: op, Time: f.now().UTC(), TID: k.TID, MID: k.MID, Batch: k.Batch, Trace: k.Trace, Amount: amount}
}

// bookAndAnswer gives e its code, RRN and auth code, books it, and answers.
func (f *Fake) bookAndAnswer(e Entry, code, msg string) (channels.Response, error) {
	e.Code, e.Message = code, msg
	seq := f.st.lastRRN + 1
	e.RRN = fmt.Sprintf("%012d", seq)
	if e.Approved() {
		e.AuthCode = fmt.Sprintf("%06d", seq*48271%1000000) // a bijection, so codes don't look sequential
	}
	if err := f.book(e); err != nil {
		return channels.Response{}, fmt.Errorf("booking %s %s: %w", e.Op, e.Key(), err)
	}
	return f.answer(e)
}

// answer returns e's response, unless "lose_response" loses it.
func (f *Fake) answer(e Entry) (channels.Response, error) {
	if f.cfg.lose[e.Amount] {
		return channels.Response{}, fmt.Errorf("%s %s booked, answer lost (fault injected): %w", e.Op, e.Key(), channels.ErrNoAnswer)
	}
	return e.response(), nil
}

// book appends e to the ledger (and syncs it) before applying it.
func (f *Fake) book(e Entry) error {
	if f.closed {
		return errors.New("fake acquirer closed")
	}
	if f.ledger != nil {
		if err := f.ledger.Append(e); err != nil {
			return err
		}
	}
	if err := f.st.apply(e); err != nil {
		return err
	}
	if f.ledger != nil && f.ledger.SinceSnapshot() >= max(snapshotEvery, len(f.st.booked)) {
		// A snapshot is taken no more often than the state it holds has
		// entries, so that its writes stay within one entry a booking.
		// The entry is durable in the ledger already: a failed snapshot
		// only leaves the next start a longer replay, so it is tried
		// again at the next append rather than refused.
		_ = f.ledger.Snapshot(f.st.snapshot())
	}
	return nil
}

func parseConfig(m map[string]string) (config, error) {
	c := defaultConfig()
	keys := []string{"ledger", "ledger_sync", "tmk", "decline", "lose_response", "bad_mac", "host_down", "settle_unbalanced", "reversal_code", "mac", "batch",
		"latency", "crash_after"} // the last two read by faults.Parse
	err := base.EachConfigKey(m, Name, keys, func(k base.ConfigKey) error {
		switch k.Name {
		case "ledger":
			c.ledgerPath = k.Value
		case "ledger_sync":
			switch k.Value {
			case "", "true":
				c.sync = true
			case "false":
				c.sync = false
			default:
				return k.Bad("true or false")
			}
		case "tmk":
			if k.Value == "" {
				return nil
			}
			tmk, err := hex.DecodeString(k.Value)
			if err != nil || len(tmk) != cardcrypto.KeySize {
				return k.Bad(fmt.Sprintf("a %d-byte key in hex", cardcrypto.KeySize))
			}
			c.tmk = tmk
		case "decline":
			c.declines = map[string]bool{}
			for _, s := range splitList(k.Value) {
				if !IsDigits(s, 2) || s == channels.CodeApproved {
					return k.Bad("a list of two-digit decline codes such as 51,55")
				}
				c.declines[s] = true
			}
		case "lose_response", "bad_mac":
			set := c.lose
			if k.Name == "bad_mac" {
				set = c.badMAC
			}
			for _, s := range splitList(k.Value) {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil || n <= 0 {
					return k.Bad("a list of amounts in fen such as 1234,500")
				}
				set[n] = true
			}
		case "host_down", "mac", "settle_unbalanced":
			if k.Value == "" {
				return nil
			}
			b, err := k.Bool()
			if err != nil {
				return err
			}
			switch k.Name {
			case "mac":
				c.mac = b
			case "host_down":
				c.hostDown = b
			default:
				c.unbalanced = b
			}
		case "reversal_code":
			if k.Value == "" {
				return nil
			}
			if len(k.Value) != 2 || !isAlnum(k.Value, 2) {
				return k.Bad("a two-character response code such as 96")
			}
			c.reversalCode = strings.ToUpper(k.Value)
		case "batch":
			if k.Value == "" {
				return nil
			}
			if !IsDigits(k.Value, 6) || k.Value == "000000" {
				return k.Bad("a 6-digit batch number such as 000001")
			}
			c.batch = k.Value
		}
		return nil
	})
	if err != nil {
		return config{}, err
	}
	return c, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (st *state) original(tid string, orig channels.Key, rrn string) (*Entry, bool) {
	if orig.TID == "" {
		orig.TID = tid
	}
	if orig.Batch == "" && orig.Trace == "" {
		k, ok := st.byRRN[rrn]
		if !ok || rrn == "" {
			return nil, false
		}
		return st.booked[k], true
	}
	b, ok := st.booked[bookKeyOf(orig)]
	if !ok || (rrn != "" && b.RRN != rrn) {
		return nil, false
	}
	return b, true
}

// totals are the host's card totals of TID + batch, as channels.Totals
// defines them: approved, unreversed sales (a voided one too), voids and
// refunds.
func (st *state) totals(tid, batch string) channels.Totals {
	t := channels.Totals{Medium: channels.MediumCard}
	for _, b := range st.booked {
		if b.TID != tid || b.Batch != batch || !b.Approved() || b.Reversed {
			continue
		}
		switch b.Op {
		case OpSale:
			t.SaleCount++
			t.SaleAmount += b.Amount
		case OpVoid:
			t.VoidCount++
			t.VoidAmount += b.Amount
		case OpRefund:
			t.RefundCount++
			t.RefundAmount += b.Amount
		}
	}
	return t
}

// NextBatch is the batch number after batch.
func NextBatch(batch string) string {
	n, _ := strconv.Atoi(batch)
	if n++; n > 999999 {
		n = 1
	}
	return fmt.Sprintf("%06d", n)
}

func message(code string) string {
	switch code {
	case channels.CodeApproved:
		return "approved"
	case channels.CodeInvalidMerchant:
		return "invalid merchant"
	case "05":
		return "do not honour"
	case CodeInvalidTransaction:
		return "invalid transaction"
	case CodeInvalidAmount:
		return "invalid amount"
	case CodeInvalidCard:
		return "invalid card number"
	case channels.CodeNotFound:
		return "transaction not found"
	case "41":
		return "lost card"
	case "43":
		return "stolen card"
	case channels.CodeInsufficientFunds:
		return "insufficient funds"
	case CodeExpiredCard:
		return "expired card"
	case channels.CodeWrongPIN:
		return "incorrect PIN"
	case "57":
		return "transaction not permitted to cardholder"
	case channels.CodeOverLimit:
		return "exceeds amount limit"
	case "62":
		return "restricted card"
	case "65":
		return "exceeds frequency limit"
	case channels.CodePINTriesExceeded:
		return "PIN tries exceeded"
	case "91":
		return "issuer unavailable"
	case channels.CodeDuplicate:
		return "duplicate transaction"
	case channels.CodeSystemError:
		return "system malfunction"
	case channels.CodeInvalidTerminal:
		return "invalid terminal"
	case channels.CodeMACError:
		return "MAC error"
	}
	return "declined by the issuer"
}

// IsDigits reports whether s is n decimal digits.
func IsDigits(s string, n int) bool {
	return len(s) == n && strings.Trim(s, "0123456789") == ""
}

func isAlnum(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}
