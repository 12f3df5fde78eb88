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
	"github.com/posrt/posrt/runtime/journal"
)

// Terminal identifies the terminal to its acquirer.
type Terminal struct {
	TID          string
	MID          string
	MerchantName string
}

// Deps are the service's collaborators.
type Deps struct {
	Journal *journal.Journal
	// Channel returns the acquirer channel's current client.
	Channel func(context.Context) (channels.Acquirer, error)
	// PinPad returns the PIN pad's current client, for key loading.
	PinPad func(context.Context) (pinpad.PinPad, error)
	Now    func() time.Time
	Logf   func(format string, args ...any)
}

// Service runs the terminal's online transactions.
type Service struct {
	term Terminal
	deps Deps

	mu       sync.Mutex // one online exchange at a time
	keys     *pinpad.WorkingKeys
	signedOn atomic.Value // string: local date of the last successful sign-in; read without mu
}

// New returns a Service; it sends nothing until asked.
func New(term Terminal, deps Deps) *Service {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logf == nil {
		deps.Logf = func(string, ...any) {}
	}
	return &Service{term: term, deps: deps}
}

// Errors the service returns; the terminal turns them into cashier messages.
var (
	ErrSignInRefused   = errors.New("sign-in refused by the host")
	ErrReversalPending = errors.New("a reversal is pending")
)

// SignedIn reports whether the terminal signed in today. It does not wait
// for a transaction in flight.
func (s *Service) SignedIn() bool {
	on, _ := s.signedOn.Load().(string)
	return on == s.today()
}

func (s *Service) today() string { return s.deps.Now().Format("2006-01-02") }

func (s *Service) key(batch, trace string) channels.Key {
	return channels.Key{TID: s.term.TID, MID: s.term.MID, Batch: batch, Trace: trace}
}

// SignIn signs the terminal in: the host answers with the batch number and
// fresh working keys, which go into the PIN pad.
func (s *Service) SignIn(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signIn(ctx)
}

func (s *Service) signIn(ctx context.Context) error {
	ch, err := s.deps.Channel(ctx)
	if err != nil {
		return fmt.Errorf("signing in: %w", err)
	}
	c, err := s.deps.Journal.Counters()
	if err != nil {
		return fmt.Errorf("signing in: %w", err)
	}
	resp, err := ch.SignIn(ctx, channels.SignInRequest{Key: s.key(c.Batch, "000000")})
	if err != nil {
		return fmt.Errorf("signing in: %w", err)
	}
	if resp.Code != channels.CodeApproved {
		return fmt.Errorf("%w: %s %s", ErrSignInRefused, resp.Code, resp.Message)
	}
	if _, err := s.deps.Journal.AdoptBatch(resp.Batch); err != nil {
		return fmt.Errorf("signing in: %w", err)
	}
	keys := pinpad.WorkingKeys{
		PIN:   pinpad.WorkingKey(resp.PINKey),
		MAC:   pinpad.WorkingKey(resp.MACKey),
		Track: pinpad.WorkingKey(resp.TrackKey),
	}
	if err := s.loadKeys(ctx, keys); err != nil {
		return fmt.Errorf("signing in: %w", err)
	}
	s.keys = &keys
	s.signedOn.Store(s.today())
	s.deps.Logf("signed in: batch %s", resp.Batch)
	return nil
}

func (s *Service) loadKeys(ctx context.Context, keys pinpad.WorkingKeys) error {
	pp, err := s.deps.PinPad(ctx)
	if err != nil {
		return err
	}
	return pp.LoadWorkingKeys(ctx, keys)
}

// ReloadKeys loads the working keys of today's sign-in into the PIN pad
// again (a restarted PIN pad has none); it signs in when there are none.
// The keys are held encrypted under the terminal master key only.
func (s *Service) ReloadKeys(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil || !s.SignedIn() {
		return s.signIn(ctx)
	}
	return s.loadKeys(ctx, *s.keys)
}

// SaleRequest is a card sale to authorize.
type SaleRequest struct {
	Amount   int64
	Card     channels.Card
	PINBlock []byte
}

// Sale authorizes a card sale: sign-in if the day has none, reversals of
// anything pending, then journal, send, journal. The returned record is the
// journaled outcome: reversed, or unknown with its reversal pending, when
// the host did not answer. Once the request may have reached the host the
// record is returned even with an error (it then stays pending); before
// that, an error comes with a zero record.
func (s *Service) Sale(ctx context.Context, req SaleRequest) (journal.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.SignedIn() {
		if err := s.signIn(ctx); err != nil {
			return journal.Record{}, err
		}
	}
	if err := s.reversePending(ctx); err != nil {
		return journal.Record{}, err
	}
	ch, err := s.deps.Channel(ctx)
	if err != nil {
		return journal.Record{}, fmt.Errorf("reaching the acquirer: %w", err)
	}
	rec, err := s.deps.Journal.Begin(ctx, journal.Intent{
		TID: s.term.TID, MID: s.term.MID, Kind: "sale", Channel: "card", Amount: req.Amount,
		MaskedPAN: req.Card.MaskedPAN, EntryMode: req.Card.EntryMode,
	})
	if err != nil {
		return journal.Record{}, err
	}
	s.deps.Journal.MarkSent(rec.Key())
	resp, sendErr := ch.Sale(ctx, channels.CardSaleRequest{
		Key: s.key(rec.Batch, rec.Trace), Amount: req.Amount, Card: req.Card, PINBlock: req.PINBlock,
	})
	// From here the request may be at the host: whatever fails, the record
	// (with its trace) is returned, and stays pending until it is resolved.
	ctx = context.WithoutCancel(ctx)
	if sendErr != nil {
		s.deps.Logf("sale %s: no answer: %v", rec.Key(), sendErr)
		out := journal.Outcome{State: journal.StateUnknown, HostMessage: "no answer from the host"}
		if _, err := s.deps.Journal.Finish(ctx, rec.Key(), out); err != nil {
			return rec, err
		}
		// Reverse at once if the host is reachable; if not, it stays pending.
		if err := s.reversePending(ctx); err != nil {
			s.deps.Logf("sale %s: %v", rec.Key(), err)
		}
		return s.deps.Journal.Get(rec.Key())
	}
	state := journal.StateDeclined
	if resp.Approved() {
		state = journal.StateApproved
	}
	done, err := s.deps.Journal.Finish(ctx, rec.Key(), journal.Outcome{
		State: state, HostCode: resp.Code, HostMessage: resp.Message, RRN: resp.RRN, AuthCode: resp.AuthCode,
	})
	if err != nil {
		return rec, err
	}
	return done, nil
}

// ReversePending sends a reversal for every pending record (at boot, and
// before any online transaction).
func (s *Service) ReversePending(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reversePending(ctx)
}

func (s *Service) reversePending(ctx context.Context) error {
	pending, err := s.deps.Journal.Pending()
	if err != nil || len(pending) == 0 {
		return err
	}
	ch, err := s.deps.Channel(ctx)
	if err != nil {
		return fmt.Errorf("%w for %s: %w", ErrReversalPending, pending[0].Key(), err)
	}
	for _, rec := range pending {
		resp, err := ch.Reverse(ctx, channels.ReverseRequest{
			Key: s.key(rec.Batch, rec.Trace), Amount: rec.Amount, Reason: channels.ReasonNoResponse,
		})
		if err != nil {
			return fmt.Errorf("%w for %s: %w", ErrReversalPending, rec.Key(), err)
		}
		if resp.Code != channels.CodeApproved {
			return fmt.Errorf("%w for %s: host answered %s %s", ErrReversalPending, rec.Key(), resp.Code, resp.Message)
		}
		if _, err := s.deps.Journal.Finish(context.WithoutCancel(ctx), rec.Key(), journal.Outcome{
			State: journal.StateReversed, HostCode: resp.Code, HostMessage: resp.Message,
		}); err != nil {
			return err
		}
		s.deps.Logf("reversed %s (%d fen)", rec.Key(), rec.Amount)
	}
	return nil
}
