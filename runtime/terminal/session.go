package terminal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/txn"
)

// session is the host API for one run of one flow, bound to one journaled
// operation.
type session struct {
	t   *Terminal
	rec journal.Record // the operation as journaled at Begin

	mu       sync.Mutex
	n        int
	cards    map[string]pinpad.Card
	pins     map[string]pinpad.PINBlock
	codes    map[string]paymentCode // never handed to Lua
	given    string                 // the payment code the front end handed over
	executed bool
	reprint  bool           // a reprint's session: nothing to execute, every print a reprint
	failure  string         // the code of Execute's refusal, when it refused
	last     journal.Record // what Execute returned
}

var (
	_ flow.PinPad   = (*session)(nil)
	_ flow.Scanner  = (*session)(nil)
	_ flow.Txn      = (*session)(nil)
	_ flow.Printer  = (*session)(nil)
	_ flow.Terminal = (*session)(nil)
)

// host is the flow.Host of the session's run: its devices, operation and
// terminal, and the UI of the front end that started it (none: the
// flow's posrt.ui calls fail as unavailable).
func (s *session) host(ui flow.UI) flow.Host {
	return flow.Host{UI: ui, Events: s, PinPad: s, Scanner: s, Txn: s, Printer: s, Terminal: s}
}

// paymentCode is a code the customer presented and the wallet it is for.
type paymentCode struct {
	code   string
	medium journal.Medium
}

func (t *Terminal) newSession(rec journal.Record, given string) *session {
	return &session{t: t, rec: rec, given: given,
		cards: map[string]pinpad.Card{}, pins: map[string]pinpad.PINBlock{}, codes: map[string]paymentCode{}}
}

// close drops the run's encrypted card data, PIN blocks and payment codes.
func (s *session) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pins {
		clear(p)
	}
	clear(s.pins)
	clear(s.cards)
	clear(s.codes)
	s.given = ""
}

// executedRecord is what Execute returned, if the flow executed.
func (s *session) executedRecord() (journal.Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last, s.executed && s.last.Trace != ""
}

func (s *session) failureCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failure
}

func (s *session) ref(kind string) string {
	s.n++
	return fmt.Sprintf("%s-%d", kind, s.n)
}

// withPinPad calls fn on the PIN pad; a PIN pad that lost its working keys
// (it restarted) gets them again and fn is tried once more.
func (s *session) withPinPad(ctx context.Context, fn func(pinpad.PinPad) error) error {
	pp, err := s.t.cfg.Devices.PinPad(ctx)
	if err != nil {
		return err
	}
	err = fn(pp)
	if !errors.Is(err, pinpad.ErrKeysNotLoaded) {
		return err
	}
	if err := s.t.engine.ReloadKeys(ctx); err != nil {
		return err
	}
	if pp, err = s.t.cfg.Devices.PinPad(ctx); err != nil {
		return err
	}
	return fn(pp)
}

func (s *session) ReadCard(ctx context.Context, a flow.ReadCardArgs) (flow.CardView, error) {
	var c pinpad.Card
	err := s.withPinPad(ctx, func(pp pinpad.PinPad) (err error) {
		c, err = pp.ReadCard(ctx, pinpad.ReadCardRequest{Amount: int64(s.rec.Amount), EntryModes: a.EntryModes})
		return err
	})
	if err != nil {
		return flow.CardView{}, cashierError(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := s.ref("card")
	s.cards[ref] = c
	return flow.CardView{Ref: ref, MaskedPAN: c.MaskedPAN, Expiry: c.Expiry, EntryMode: c.EntryMode}, nil
}

func (s *session) card(ref string) (pinpad.Card, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cards[ref]
	if !ok {
		return pinpad.Card{}, &flow.Error{Code: "no_card", Message: fmt.Sprintf("no card %q was read in this transaction", ref)}
	}
	return c, nil
}

func (s *session) GetPIN(ctx context.Context, a flow.GetPINArgs) (flow.PINView, error) {
	c, err := s.card(a.CardRef)
	if err != nil {
		return flow.PINView{}, err
	}
	var block pinpad.PINBlock
	err = s.withPinPad(ctx, func(pp pinpad.PinPad) (err error) {
		block, err = pp.GetPIN(ctx, pinpad.PINRequest{Amount: int64(s.rec.Amount), EncryptedTrack: c.EncryptedTrack})
		return err
	})
	if err != nil {
		return flow.PINView{}, cashierError(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := s.ref("pin")
	s.pins[ref] = block
	return flow.PINView{Ref: ref}, nil
}

// ReadCode hands the flow a reference to the customer's payment code: the
// one the front end gave, or the next one the scanner reads. Each code
// is handed out once.
func (s *session) ReadCode(ctx context.Context) (flow.CodeView, error) {
	s.mu.Lock()
	code := s.given
	s.given = ""
	s.mu.Unlock()
	if code == "" {
		if s.t.cfg.Devices.Scanner == nil {
			return flow.CodeView{}, &flow.Error{Code: "no_scanner", Message: "no scanner is configured: the cash register must send the payment code (auth_code)"}
		}
		sc, err := s.t.cfg.Devices.Scanner(ctx)
		if err != nil {
			return flow.CodeView{}, cashierError(err)
		}
		scan, err := sc.ReadCode(ctx)
		if err != nil {
			return flow.CodeView{}, cashierError(err)
		}
		code = scan.Code
	}
	m, err := s.t.detect(code)
	if err != nil {
		return flow.CodeView{}, err
	}
	switch {
	case s.rec.Medium.Decided() && m != s.rec.Medium:
		return flow.CodeView{}, &flow.Error{Code: "wrong_wallet", Message: fmt.Sprintf("the customer showed a %s code, but this payment is %s", m, s.rec.Medium)}
	case !slices.Contains(s.t.cfg.Channels.Wallets(), m):
		return flow.CodeView{}, s.t.noWallet(m)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := s.ref("code")
	s.codes[ref] = paymentCode{code: code, medium: m}
	return flow.CodeView{Ref: ref, Medium: string(m)}, nil
}

func (s *session) Display(ctx context.Context, lines []string) error {
	pp, err := s.t.cfg.Devices.PinPad(ctx)
	if err == nil {
		err = pp.Display(ctx, lines)
	}
	if err != nil {
		return cashierError(err)
	}
	return nil
}

// Execute runs the session's operation, once, with the references given.
func (s *session) Execute(ctx context.Context, a flow.ExecuteArgs) (flow.TxnView, error) {
	var refs txn.Refs
	if a.CardRef != "" {
		c, err := s.card(a.CardRef)
		if err != nil {
			return flow.TxnView{}, err
		}
		refs.Card = channels.Card{MaskedPAN: c.MaskedPAN, Expiry: c.Expiry, EntryMode: c.EntryMode, EncryptedTrack: c.EncryptedTrack,
			SequenceNumber: c.SequenceNumber, ICCData: c.ICCData}
	}
	s.mu.Lock()
	if s.executed {
		s.mu.Unlock()
		msg := "this transaction was already executed: a flow executes its operation once and cannot start another"
		if s.reprint {
			msg = "a reprint sends nothing: the transaction was executed when it was made"
		}
		return flow.TxnView{}, &flow.Error{Code: txn.CodeAlreadyExecuted, Message: msg}
	}
	pin, okPIN := s.pins[a.PINRef]
	code, okCode := s.codes[a.CodeRef]
	s.executed = true
	s.mu.Unlock()
	switch {
	case a.PINRef != "" && !okPIN:
		return flow.TxnView{}, &flow.Error{Code: "no_pin", Message: fmt.Sprintf("no PIN %q was entered in this transaction", a.PINRef)}
	case a.CodeRef != "" && !okCode:
		return flow.TxnView{}, &flow.Error{Code: "no_code", Message: fmt.Sprintf("no payment code %q was read in this transaction", a.CodeRef)}
	}
	refs.PINBlock, refs.PaymentCode, refs.Medium = pin, code.code, s.rec.Medium
	switch {
	case a.CodeRef != "":
		refs.Medium = code.medium
	case a.CardRef != "":
		refs.Medium = journal.MediumCard
	}
	rec, err := s.t.engine.Execute(ctx, s.rec.Key(), refs)
	s.mu.Lock()
	s.last = rec
	s.mu.Unlock()
	if err != nil && (rec.Trace == "" || rec.State == journal.StateNotSent) {
		fe := cashierError(err).(*flow.Error)
		s.mu.Lock()
		s.failure = fe.Code
		s.mu.Unlock()
		return flow.TxnView{}, fe
	}
	if err != nil {
		// Sent, but the outcome could not be journaled: the record stays
		// pending, to be resolved, and the cashier is told so.
		s.t.cfg.Logf("%s %s: %v", rec.Kind, rec.Key(), err)
	}
	return view(rec, time.Local), nil
}

// Record returns the session's transaction as journaled now.
func (s *session) Record(context.Context) (flow.TxnView, error) {
	rec, err := s.t.cfg.Journal.Get(s.rec.Key())
	if err != nil {
		return flow.TxnView{}, cashierError(err)
	}
	v := view(rec, time.Local)
	v.Duplicate = rec.ReceiptPrinted || s.reprint
	return v, nil
}

// Print prints a receipt of the session's operation as one job whose id
// names the operation and the copy, so a print retried after a deadline
// comes out once; the record notes that it printed.
func (s *session) Print(ctx context.Context, a flow.PrintArgs) error {
	key := s.rec.Key()
	cur, err := s.t.cfg.Journal.Get(key)
	if err != nil {
		return cashierError(err)
	}
	id := fmt.Sprintf("%s/%s/%d", key, a.Copy, cur.Reprints)
	again := cur.ReceiptPrinted || s.reprint
	if again {
		id = fmt.Sprintf("%s/%s/reprint-%d", key, a.Copy, cur.Reprints+1)
	}
	p, err := s.t.cfg.Devices.Printer(ctx)
	if err == nil {
		doc := a.Document
		if again {
			doc = doc.AsDuplicate()
		}
		err = p.Print(ctx, printer.Job{ID: printer.JobID(id), Document: doc.Printer()})
	}
	if err != nil {
		return cashierError(err)
	}
	if _, err := s.t.cfg.Journal.MarkPrinted(context.WithoutCancel(ctx), key, again); err != nil {
		s.t.cfg.Logf("%s printed, but noting it in the journal failed: %v", key, err)
	}
	return nil
}

func (s *session) Info(context.Context) (flow.TerminalView, error) { return s.t.terminalView() }

// terminalView describes the terminal and its current counters to a flow.
func (t *Terminal) terminalView() (flow.TerminalView, error) {
	c, err := t.cfg.Journal.Counters()
	if err != nil {
		return flow.TerminalView{}, err
	}
	info := t.cfg.Info
	v := flow.TerminalView{TID: info.TID, MID: info.MID, MerchantName: info.MerchantName, Batch: c.Batch, NextTrace: c.NextTrace}
	t.accessMu.Lock()
	defer t.accessMu.Unlock()
	v.Operator, v.Locked = string(t.access.operator.Number), t.access.locked
	if p := t.access.protection; p != nil {
		v.Protected = p.Reason
	}
	return v, nil
}

var _ flow.Events = (*session)(nil)

// Wait races what a asks for: the PIN pad's card reader and the scanner
// (or the code the front end handed over) each wait under a context the
// first one to answer, or the timeout, calls off; Wait returns once both
// have ended, so no device call outlives it. The PIN pad's cancel key
// (its read ending cancelled) is the cancel event.
func (s *session) Wait(ctx context.Context, a flow.WaitArgs) (flow.Event, error) {
	if a.TimeoutMS > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(a.TimeoutMS)*time.Millisecond)
		defer cancel()
	}
	race, stop := context.WithCancel(ctx)
	defer stop()
	type answer struct {
		ev  flow.Event
		err error
	}
	answers := make(chan answer, 3)
	waiting := 0
	if a.DrawerClosed {
		if s.t.cfg.GPIO == nil {
			return flow.Event{}, &flow.Error{Code: "no_drawer_sensor", Message: "this terminal has no cash-drawer sensor ([gpio] drawer)"}
		}
		waiting++
		go func() {
			err := s.t.cfg.GPIO.WaitClosed(race)
			if err != nil && race.Err() == nil {
				err = &flow.Error{Code: "no_drawer_sensor", Message: err.Error()}
			}
			answers <- answer{flow.Event{Kind: flow.EventDrawerClosed}, err}
		}()
	}
	if a.Card {
		waiting++
		go func() {
			c, err := s.ReadCard(race, flow.ReadCardArgs{})
			answers <- answer{flow.Event{Kind: flow.EventCard, Card: c}, err}
		}()
	}
	if a.Code {
		waiting++
		go func() {
			c, err := s.ReadCode(race)
			answers <- answer{flow.Event{Kind: flow.EventCode, Code: c}, err}
		}()
	}
	if waiting == 0 {
		<-ctx.Done()
		return flow.Event{Kind: flow.EventTimeout}, nil
	}
	// The first card or code wins, or the cancel key; a source that fails
	// (no scanner, a card that does not read) leaves the other waiting,
	// and its error is the answer only if nothing else comes.
	var won *flow.Event
	var failed error
	for ; waiting > 0; waiting-- {
		var got answer
		select {
		case got = <-answers:
		case <-ctx.Done():
			stop()
			got = <-answers
		}
		switch {
		case won != nil:
			// Called off after the first answer.
		case got.err == nil:
			won = &got.ev
			stop()
		case ctx.Err() != nil:
			// Called off by the timeout.
		case flow.AsError(got.err).Code == "cancelled":
			won = &flow.Event{Kind: flow.EventCancel}
			stop()
		case failed == nil:
			failed = got.err
		}
	}
	switch {
	case won != nil:
		return *won, nil
	case ctx.Err() != nil:
		return flow.Event{Kind: flow.EventTimeout}, nil
	}
	return flow.Event{}, failed
}
