package terminal

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/txn"
)

// session is the host API for one run of one flow.
type session struct {
	t *Terminal

	mu     sync.Mutex
	n      int
	prints int
	cards  map[string]pinpad.Card
	pins   map[string]pinpad.PINBlock
	txns   []flow.TxnView
}

var _ flow.HostAPI = (*session)(nil)

func (t *Terminal) newSession() *session {
	return &session{t: t, cards: map[string]pinpad.Card{}, pins: map[string]pinpad.PINBlock{}}
}

// close drops the run's encrypted card data and PIN blocks.
func (s *session) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pins {
		clear(p)
	}
	clear(s.pins)
	clear(s.cards)
}

func (s *session) lastTxn() (flow.TxnView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.txns) == 0 {
		return flow.TxnView{}, false
	}
	return s.txns[len(s.txns)-1], true
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
	if err := s.t.txn.ReloadKeys(ctx); err != nil {
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
		c, err = pp.ReadCard(ctx, pinpad.ReadCardRequest{Amount: a.Amount, EntryModes: a.EntryModes})
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
		block, err = pp.GetPIN(ctx, pinpad.PINRequest{Amount: a.Amount, EncryptedTrack: c.EncryptedTrack})
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

func (s *session) Sale(ctx context.Context, a flow.SaleArgs) (flow.TxnView, error) {
	c, err := s.card(a.CardRef)
	if err != nil {
		return flow.TxnView{}, err
	}
	s.mu.Lock()
	pin, ok := s.pins[a.PINRef]
	s.mu.Unlock()
	if a.PINRef != "" && !ok {
		return flow.TxnView{}, &flow.Error{Code: "no_pin", Message: fmt.Sprintf("no PIN %q was entered in this transaction", a.PINRef)}
	}
	rec, err := s.t.txn.Sale(ctx, txn.SaleRequest{
		Amount: a.Amount, PINBlock: pin,
		Card: channels.Card{MaskedPAN: c.MaskedPAN, Expiry: c.Expiry, EntryMode: c.EntryMode, EncryptedTrack: c.EncryptedTrack},
	})
	if err != nil && rec.Trace == "" {
		return flow.TxnView{}, cashierError(err)
	}
	if err != nil {
		// Sent, but the outcome could not be journaled: the record stays
		// pending, to be reversed, and the cashier is told so.
		s.t.cfg.Logf("sale %s: %v", rec.Key(), err)
	}
	v := view(rec, time.Local)
	s.mu.Lock()
	s.txns = append(s.txns, v)
	s.mu.Unlock()
	return v, nil
}

func (s *session) Print(ctx context.Context, doc printer.Document) error {
	job := printer.Job{ID: s.jobID(), Document: doc}
	p, err := s.t.cfg.Devices.Printer(ctx)
	if err == nil {
		err = p.Print(ctx, job)
	}
	if err != nil {
		return cashierError(err)
	}
	return nil
}

// jobID names the run's next print job: the TID, batch and trace of the
// run's last transaction and the job's place among the run's prints, such
// as "10000001/000001/000123/print-1"; a run without a transaction uses the
// time it printed instead of batch and trace.
func (s *session) jobID() printer.JobID {
	s.mu.Lock()
	s.prints++
	n := s.prints
	s.mu.Unlock()
	if v, ok := s.lastTxn(); ok {
		return printer.JobID(fmt.Sprintf("%s/%s/%s/print-%d", v.TID, v.Batch, v.Trace, n))
	}
	return printer.JobID(fmt.Sprintf("%s/%d/print-%d", s.t.cfg.Info.TID, time.Now().UnixNano(), n))
}

func (s *session) Terminal(context.Context) (flow.TerminalView, error) {
	c, err := s.t.cfg.Journal.Counters()
	if err != nil {
		return flow.TerminalView{}, err
	}
	info := s.t.cfg.Info
	return flow.TerminalView{TID: info.TID, MID: info.MID, MerchantName: info.MerchantName, Batch: c.Batch, NextTrace: c.NextTrace}, nil
}
