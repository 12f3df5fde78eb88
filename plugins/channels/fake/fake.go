package fake

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/internal/faults"
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

// CardChannel is the Totals.Channel the fake compares at settlement.
const CardChannel = "card"

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
	ledger *os.File // nil: in memory only
	size   int64    // bytes of well-formed ledger
	closed bool
}

var _ channels.Channel = (*Fake)(nil)

type config struct {
	ledgerPath string
	sync       bool
	tmk        []byte
	declines   map[string]bool
	lose       map[int64]bool
	batch      string
}

func defaultConfig() config {
	return config{
		sync:     true,
		tmk:      testcards.TestTMK(),
		declines: map[string]bool{channels.CodeInsufficientFunds: true},
		lose:     map[int64]bool{},
		batch:    "000001",
	}
}

// NewFake returns a fake host with the default configuration and an
// in-memory ledger. It does no I/O; Configure opens the ledger.
func NewFake() *Fake {
	return &Fake{now: time.Now, cfg: defaultConfig(), st: newState()}
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

// fakeInfo is what the Fake's Info reports.
func fakeInfo() base.Info {
	return base.Info{Kind: base.KindChannel, Name: "fake-channel", Version: "0.1.0", APIVersions: channels.APIVersions}
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
	var (
		fh   *os.File
		size int64
	)
	if cfg.ledgerPath != "" {
		if fh, size, err = openLedger(cfg.ledgerPath, st); err != nil {
			return err
		}
	}
	f.faults.Set(fs)
	f.mu.Lock()
	old := f.ledger
	f.cfg, f.st, f.ledger, f.size, f.closed = cfg, st, fh, size, false
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

// SignIn implements channels.Channel: fresh working keys under the TMK and
// the host's batch for the TID.
func (f *Fake) SignIn(ctx context.Context, req channels.SignInRequest) (channels.SignInResponse, error) {
	if err := f.faults.Call(ctx); err != nil {
		return channels.SignInResponse{}, err
	}
	tid, mid := req.Key.TID, req.Key.MID
	if !isAlnum(tid, 8) || !isAlnum(mid, 15) {
		return channels.SignInResponse{
			Code:    channels.CodeInvalidTerminal,
			Message: "invalid terminal: the TID must be 8 letters or digits and the MID 15",
		}, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	batch := f.st.batches[tid]
	if batch == "" {
		batch = f.cfg.batch
	}
	resp := channels.SignInResponse{Code: channels.CodeApproved, Message: "signed in", Batch: batch}
	e := Entry{Op: OpSignIn, Time: f.now().UTC(), TID: tid, MID: mid, Batch: batch}
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

// Sale implements channels.Channel.
func (f *Fake) Sale(ctx context.Context, req channels.SaleRequest) (channels.Response, error) {
	if err := f.faults.Call(ctx); err != nil {
		return channels.Response{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.session("sale", req.Key)
	if err != nil {
		return channels.Response{}, err
	}
	if r, done, err := f.again(OpSale, req.Key, req.Amount); done {
		return r, err
	}
	e := f.entry(OpSale, req.Key, req.Amount)
	code, msg := f.refuse(s, req.Key)
	if code == "" {
		code, msg, e.MaskedPAN = f.authorize(s, req)
	}
	return f.bookAndAnswer(e, code, msg)
}

// authorize plays the issuer: card, expiry, PIN, decline rule.
func (f *Fake) authorize(s session, req channels.SaleRequest) (code, msg, maskedPAN string) {
	if req.Amount <= 0 {
		return CodeInvalidAmount, "invalid amount: a sale must be more than 0 fen", ""
	}
	if len(req.Card.EncryptedTrack) == 0 {
		if req.PaymentCode != "" {
			return CodeInvalidTransaction, "invalid transaction: this card host does not take payment codes", ""
		}
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

// Void implements channels.Channel: a same-batch, full-amount cancellation.
func (f *Fake) Void(ctx context.Context, req channels.VoidRequest) (channels.Response, error) {
	if err := f.faults.Call(ctx); err != nil {
		return channels.Response{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.session("void", req.Key)
	if err != nil {
		return channels.Response{}, err
	}
	if r, done, err := f.again(OpVoid, req.Key, req.Amount); done {
		return r, err
	}
	e := f.entry(OpVoid, req.Key, req.Amount)
	e.OrigTID, e.OrigBatch, e.OrigTrace, e.OrigRRN = req.Original.TID, req.Original.Batch, req.Original.Trace, req.OriginalRRN
	code, msg := f.refuse(s, req.Key)
	if code == "" {
		code, msg = f.checkVoid(req, &e)
	}
	return f.bookAndAnswer(e, code, msg)
}

func (f *Fake) checkVoid(req channels.VoidRequest, e *Entry) (code, msg string) {
	orig, code, msg := f.originalSale(req.Key.TID, req.Original, req.OriginalRRN, e)
	if orig == nil {
		return code, msg
	}
	switch {
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

// Refund implements channels.Channel: full or partial, once per refund number.
func (f *Fake) Refund(ctx context.Context, req channels.RefundRequest) (channels.Response, error) {
	if err := f.faults.Call(ctx); err != nil {
		return channels.Response{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.session("refund", req.Key)
	if err != nil {
		return channels.Response{}, err
	}
	if r, done, err := f.again(OpRefund, req.Key, req.Amount); done {
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
	e.OrigTID, e.OrigBatch, e.OrigTrace, e.OrigRRN, e.RefundNo = req.Original.TID, req.Original.Batch, req.Original.Trace, req.OriginalRRN, req.RefundNo
	code, msg := f.refuse(s, req.Key)
	if code == "" {
		code, msg = f.checkRefund(req, &e)
	}
	return f.bookAndAnswer(e, code, msg)
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

// Reverse implements channels.Channel. A reversal is always acknowledged,
// even for a key the host never booked, and reversing twice is harmless.
func (f *Fake) Reverse(ctx context.Context, req channels.ReverseRequest) (channels.Response, error) {
	if err := f.faults.Call(ctx); err != nil {
		return channels.Response{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := bookKeyOf(req.Key)
	ack := channels.Response{Code: channels.CodeApproved, Amount: req.Amount, HostUnix: f.now().Unix()}
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
	e := Entry{Op: OpReverse, Time: f.now().UTC(), TID: req.Key.TID, MID: req.Key.MID, Batch: req.Key.Batch, Trace: req.Key.Trace, Amount: req.Amount, Reason: req.Reason}
	if err := f.book(e); err != nil {
		return channels.Response{}, fmt.Errorf("recording reversal of %s: %w", req.Key, err)
	}
	return ack, nil
}

// Query implements channels.Channel: the answer booked under key.
func (f *Fake) Query(ctx context.Context, key channels.Key) (channels.Response, error) {
	if err := f.faults.Call(ctx); err != nil {
		return channels.Response{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.st.booked[bookKeyOf(key)]
	if !ok {
		return channels.Response{Code: channels.CodeNotFound, Message: message(channels.CodeNotFound), HostUnix: f.now().Unix()}, nil
	}
	r := b.response()
	switch {
	case b.Reversed:
		r.Message += " (since reversed)"
	case b.Voided:
		r.Message += " (since voided)"
	}
	return r, nil
}

// Settle implements channels.Channel: compares the terminal's card totals
// with the host's for TID + batch, then advances the host's batch, once.
func (f *Fake) Settle(ctx context.Context, req channels.SettleRequest) (channels.SettleResponse, error) {
	if err := f.faults.Call(ctx); err != nil {
		return channels.SettleResponse{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.session("settlement", req.Key); err != nil {
		return channels.SettleResponse{}, err
	}
	tid, batch := req.Key.TID, req.Key.Batch
	if s, ok := f.st.settled[[2]string{tid, batch}]; ok {
		return channels.SettleResponse{Code: s.Code, Message: s.Message, Balanced: s.Balanced}, nil
	}
	host := f.st.totals(tid, batch)
	term := channels.Totals{Channel: CardChannel}
	for _, t := range req.Totals {
		if t.Channel == CardChannel {
			term.SaleCount += t.SaleCount
			term.SaleAmount += t.SaleAmount
			term.RefundCount += t.RefundCount
			term.RefundAmount += t.RefundAmount
		}
	}
	e := Entry{Op: OpSettle, Time: f.now().UTC(), TID: tid, MID: req.Key.MID, Batch: batch, Trace: req.Key.Trace, Code: channels.CodeApproved}
	e.Balanced = host == term
	e.Message = "balanced"
	if !e.Balanced {
		e.Message = fmt.Sprintf("unbalanced: the host has %d sales for %d fen and %d refunds for %d fen",
			host.SaleCount, host.SaleAmount, host.RefundCount, host.RefundAmount)
	}
	e.NextBatch = f.st.batches[tid]
	if batch >= e.NextBatch {
		e.NextBatch = NextBatch(batch)
	}
	if err := f.book(e); err != nil {
		return channels.SettleResponse{}, fmt.Errorf("recording settlement of %s: %w", req.Key, err)
	}
	return channels.SettleResponse{Code: e.Code, Message: e.Message, Balanced: e.Balanced}, nil
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
func (f *Fake) again(op string, k channels.Key, amount int64) (r channels.Response, done bool, err error) {
	bk := bookKeyOf(k)
	b, ok := f.st.booked[bk]
	switch {
	case !ok && f.st.early[bk]:
		return f.duplicate(amount, "key already reversed"), true, nil
	case !ok:
		return channels.Response{}, false, nil
	case b.Op != op || b.Amount != amount:
		return f.duplicate(amount, "key already used for another request"), true, nil
	case b.Reversed:
		return f.duplicate(amount, "key already reversed"), true, nil
	}
	r, err = f.answer(*b)
	return r, true, err
}

func (f *Fake) duplicate(amount int64, why string) channels.Response {
	return channels.Response{Code: channels.CodeDuplicate, Message: "duplicate transaction: " + why, Amount: amount, HostUnix: f.now().Unix()}
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
		return errors.New("fake channel closed")
	}
	if f.ledger != nil {
		line, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encoding ledger entry: %w", err)
		}
		line = append(line, '\n')
		if _, err := f.ledger.Write(line); err != nil {
			f.rewind()
			return fmt.Errorf("appending to ledger: %w", err)
		}
		if f.cfg.sync {
			if err := f.ledger.Sync(); err != nil {
				f.rewind()
				return fmt.Errorf("syncing ledger: %w", err)
			}
		}
		f.size += int64(len(line))
	}
	return f.st.apply(e)
}

// rewind drops a partly written entry so that the next append starts on a
// fresh line.
func (f *Fake) rewind() {
	if f.ledger.Truncate(f.size) == nil {
		_, _ = f.ledger.Seek(f.size, io.SeekStart)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}

// openLedger opens (creating) the ledger, replays it into st, cuts off a
// torn last line, and leaves the file positioned for appending.
func openLedger(path string, st *state) (*os.File, int64, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, 0, fmt.Errorf("creating ledger directory: %w", err)
	}
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, 0, fmt.Errorf("opening ledger: %w", err)
	}
	fail := func(err error) (*os.File, int64, error) {
		_ = fh.Close()
		return nil, 0, err
	}
	entries, good, err := readEntries(fh)
	if err != nil {
		return fail(fmt.Errorf("replaying ledger %s: %w", path, err))
	}
	for i, e := range entries {
		if err := st.apply(e); err != nil {
			return fail(fmt.Errorf("replaying ledger %s entry %d: %w", path, i+1, err))
		}
	}
	fi, err := fh.Stat()
	if err != nil {
		return fail(fmt.Errorf("opening ledger: %w", err))
	}
	if fi.Size() != good {
		if err := fh.Truncate(good); err != nil {
			return fail(fmt.Errorf("cutting torn ledger line: %w", err))
		}
		if err := fh.Sync(); err != nil {
			return fail(fmt.Errorf("cutting torn ledger line: %w", err))
		}
	}
	if _, err := fh.Seek(good, io.SeekStart); err != nil {
		return fail(fmt.Errorf("opening ledger: %w", err))
	}
	if good == 0 { // a new file: make its directory entry durable too
		if err := syncDir(filepath.Dir(path)); err != nil {
			return fail(fmt.Errorf("making ledger %s durable: %w", path, err))
		}
	}
	return fh, good, nil
}

func parseConfig(m map[string]string) (config, error) {
	c := defaultConfig()
	keys := []string{"ledger", "ledger_sync", "tmk", "decline", "lose_response", "batch", "latency", "crash_after"} // the last two read by faults.Parse
	err := base.EachConfigKey(m, "fake-channel", keys, func(k base.ConfigKey) error {
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
		case "lose_response":
			for _, s := range splitList(k.Value) {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil || n <= 0 {
					return k.Bad("a list of amounts in fen such as 1234,500")
				}
				c.lose[n] = true
			}
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

// totals are the host's card totals of TID + batch: approved sales neither
// reversed nor voided, and approved refunds not reversed.
func (st *state) totals(tid, batch string) channels.Totals {
	t := channels.Totals{Channel: CardChannel}
	for _, b := range st.booked {
		if b.TID != tid || b.Batch != batch || !b.Approved() || b.Reversed {
			continue
		}
		switch {
		case b.Op == OpSale && !b.Voided:
			t.SaleCount++
			t.SaleAmount += b.Amount
		case b.Op == OpRefund:
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
