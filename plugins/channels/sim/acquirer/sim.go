package acqsim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/acquirer/iso8583"
	"github.com/posrt/posrt/plugins/channels/sim/internal/admin"
	"github.com/posrt/posrt/plugins/internal/ledger"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
)

// MACAlgorithm is how the host computes and checks field 64.
type MACAlgorithm string

// MAC algorithms.
const (
	// MACX919 is ANSI X9.19 (ISO 9797-1 MAC algorithm 3), cardcrypto.MAC.
	MACX919 MACAlgorithm = "x919"
	// MACECB is the UnionPay POS ECB MAC, cardcrypto.ECBMAC.
	MACECB MACAlgorithm = "ecb"
)

func (a MACAlgorithm) compute(key, data []byte) ([]byte, error) {
	if a == MACECB {
		return cardcrypto.ECBMAC(key, data)
	}
	return cardcrypto.MAC(key, data)
}

// Terminal is a terminal the host serves: its TID, MID and terminal master
// key.
type Terminal struct {
	TID string
	MID string
	TMK []byte
}

// Session is the working keys, in the clear, a terminal's sign-in left in
// force at the host: the MAC key field 64 is checked and answered under,
// and the PIN and track keys (nil: none) the card is read with.
type Session struct {
	TID      string
	PINKey   []byte
	MACKey   []byte
	TrackKey []byte
}

// Config configures a Server.
type Config struct {
	// Addr is where the ISO 8583 listener listens; default 127.0.0.1:0.
	Addr string
	// TLS, when set, makes the listener TLS.
	TLS *tls.Config
	// AdminAddr, when set, is where the HTTP admin endpoint listens
	// (GET /ledger, GET and POST /faults).
	AdminAddr string
	// Terminals are the terminals the host knows; others are answered 97.
	Terminals []Terminal
	// Ledger is the ledger file's path; empty keeps the ledger in memory.
	Ledger string
	// NoSync skips the fsync after each ledger append (benchmarks only).
	NoSync bool
	// MAC is the MAC algorithm; default MACX919.
	MAC MACAlgorithm
	// Batch is the batch of a terminal never signed in; default 000001.
	Batch string
	// Declines are two-digit codes: a sale whose amount in fen ends in one
	// is declined with it; nil means 51, empty (non-nil) none.
	Declines []string
	// Sessions are for tests only: each puts its terminal (one of
	// Terminals) in the state a sign-in would have left, with the given
	// keys, without the sign-in and without a ledger entry, so that a test
	// can replay a captured frame MACed under a known key. A sign-in, new
	// or replayed from the ledger, replaces it; nothing of it is written.
	Sessions []Session
	// Faults are put in force at the start, as InjectFault does.
	Faults []Fault
	// LateDelay is how long a "late" fault holds the answer; default 90s.
	LateDelay time.Duration
	// Location is the host's time zone for fields 12 and 13; default
	// China Standard Time (UTC+8).
	Location *time.Location
	// Now is the host's clock; default time.Now.
	Now func() time.Time
}

// HostZone is China Standard Time, the zone of the host's fields 12 and 13
// unless Config.Location says otherwise.
var HostZone = time.FixedZone("CST", 8*3600)

// maxFrame is the largest frame the host reads.
const maxFrame = 4096

// Server is a running acquirer host simulator.
type Server struct {
	cfg     Config
	ln      net.Listener
	adminLn net.Listener
	admin   *http.Server
	stop    func() bool
	echoes  atomic.Int64 // echo requests answered

	mu     sync.Mutex
	st     *state
	file   *ledger.File[Entry]
	faults []Fault
	conns  map[net.Conn]struct{}
	closed bool
	done   chan struct{}
	wg     sync.WaitGroup
}

// Serve starts a host with cfg: it replays the ledger, listens, and serves
// until Close or until ctx is done.
func Serve(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, st: newState(cfg), conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	for _, f := range cfg.Faults {
		if err := s.InjectFault(f); err != nil {
			return nil, err
		}
	}
	if cfg.Ledger != "" {
		f, err := ledger.Open(cfg.Ledger, !cfg.NoSync, Entry.Valid, s.st.replay)
		if err != nil {
			return nil, fmt.Errorf("opening the host ledger: %w", err)
		}
		s.file = f
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		s.closeLedger()
		return nil, fmt.Errorf("listening on %s: %w", cfg.Addr, err)
	}
	if cfg.TLS != nil {
		ln = tls.NewListener(ln, cfg.TLS)
	}
	s.ln = ln
	if cfg.AdminAddr != "" {
		aln, err := lc.Listen(ctx, "tcp", cfg.AdminAddr)
		if err != nil {
			_ = ln.Close()
			s.closeLedger()
			return nil, fmt.Errorf("listening on %s for the admin endpoint: %w", cfg.AdminAddr, err)
		}
		s.adminLn = aln
		s.admin = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = s.admin.Serve(aln) }()
	}
	s.wg.Add(1)
	go s.accept()
	s.stop = context.AfterFunc(ctx, func() { _ = s.Close() })
	return s, nil
}

func (c *Config) fill() error {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	switch c.MAC {
	case "":
		c.MAC = MACX919
	case MACX919, MACECB:
	default:
		return fmt.Errorf("configuring the acquirer simulator: MAC algorithm %q, want x919 or ecb", c.MAC)
	}
	if c.Batch == "" {
		c.Batch = "000001"
	}
	if !isDigits(c.Batch, 6) {
		return fmt.Errorf("configuring the acquirer simulator: batch %q is not 6 digits", c.Batch)
	}
	if c.Declines == nil {
		c.Declines = []string{channels.CodeInsufficientFunds}
	}
	if c.LateDelay == 0 {
		c.LateDelay = 90 * time.Second
	}
	if c.Location == nil {
		c.Location = HostZone
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if len(c.Terminals) == 0 {
		return errors.New("configuring the acquirer simulator: no terminals")
	}
	for _, t := range c.Terminals {
		if !isAlnum(t.TID, 8) || !isAlnum(t.MID, 15) || len(t.TMK) != cardcrypto.KeySize {
			return fmt.Errorf("configuring the acquirer simulator: terminal %s/%s: want an 8-character TID, a 15-character MID and a %d-byte TMK", t.TID, t.MID, cardcrypto.KeySize)
		}
	}
	for _, ss := range c.Sessions {
		if !slices.ContainsFunc(c.Terminals, func(t Terminal) bool { return t.TID == ss.TID }) {
			return fmt.Errorf("configuring the acquirer simulator: session of %q, not one of its terminals", ss.TID)
		}
		if len(ss.MACKey) != cardcrypto.KeySize || !optionalKey(ss.PINKey) || !optionalKey(ss.TrackKey) {
			return fmt.Errorf("configuring the acquirer simulator: session of %s: want a %d-byte MAC key and %d-byte PIN and track keys or none", ss.TID, cardcrypto.KeySize, cardcrypto.KeySize)
		}
	}
	return nil
}

func optionalKey(k []byte) bool { return k == nil || len(k) == cardcrypto.KeySize }

// Echoes is how many echo requests (0800, 60.3 301) the host answered.
func (s *Server) Echoes() int { return int(s.echoes.Load()) }

// Addr is the address of the ISO 8583 listener, host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// AdminURL is the admin endpoint's base URL, empty without one.
func (s *Server) AdminURL() string {
	if s.adminLn == nil {
		return ""
	}
	return "http://" + s.adminLn.Addr().String()
}

// Close stops listening, drops the open connections, waits for their
// handlers and closes the ledger.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	if s.stop != nil {
		s.stop()
	}
	err := s.ln.Close()
	if s.admin != nil {
		_ = s.admin.Close()
	}
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.closeLedger(); err == nil {
		err = e
	}
	return err
}

func (s *Server) closeLedger() error {
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file = nil
	return err
}

// Ledger returns every entry of the ledger, in order.
func (s *Server) Ledger() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.entries)
}

// Booked returns the sale, void or refund booked under k, with its state
// (Reversed, Voided, Refunded).
func (s *Server) Booked(k channels.Key) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.st.booked[bookKeyOf(k)]
	if !ok {
		return Entry{}, false
	}
	return *b, true
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// serveConn answers the frames of one connection, one after the other,
// until the terminal closes it or a frame is out of step.
func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		_ = c.Close()
	}()
	for {
		f, err := iso8583.ReadFrame(c, maxFrame)
		if err != nil {
			return // EOF, or a frame the host cannot read: drop the connection
		}
		if f.Header.AppType != "60" {
			return
		}
		out := s.handle(f.Message)
		if !s.deliver(c, f, out) {
			return
		}
	}
}

// deliver writes out's answer as its fault has it; false closes the
// connection.
func (s *Server) deliver(c net.Conn, req iso8583.Frame, out outcome) bool {
	switch out.fault {
	case FaultReset:
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // an RST rather than a FIN
		}
		return false
	case FaultNoAnswer:
		return false
	}
	if out.answer == nil {
		return false // nothing the host answers
	}
	b, err := iso8583.AppendFrame(nil, iso8583.Frame{TPDU: req.TPDU.Reply(), Header: req.Header, Message: out.answer})
	if err != nil {
		return false
	}
	switch out.fault {
	case FaultLate:
		select {
		case <-time.After(s.cfg.LateDelay):
		case <-s.done:
			return false
		}
	case FaultPartial:
		_, _ = c.Write(b[:len(b)/2])
		return false
	case FaultDuplicate:
		b = append(b, b...)
	}
	_, err = c.Write(b)
	return err == nil
}

// FaultKind is a fault the host injects into its answers.
type FaultKind string

// Fault kinds. Each applies to a sale, void or refund; unless said
// otherwise the request is booked as usual first.
const (
	FaultNoAnswer    FaultKind = "no_answer"    // booked, then the connection is closed without an answer
	FaultLate        FaultKind = "late"         // booked, answered after Config.LateDelay
	FaultReset       FaultKind = "reset"        // the connection is reset after the request is read; nothing booked
	FaultPartial     FaultKind = "partial"      // booked, half the answer's frame written, then closed
	FaultBadMAC      FaultKind = "bad_mac"      // booked, the answer's MAC corrupted
	FaultWrongTrace  FaultKind = "wrong_trace"  // booked, the answer's trace (field 11) changed
	FaultWrongTID    FaultKind = "wrong_tid"    // booked, the answer's TID (field 41) changed
	FaultWrongAmount FaultKind = "wrong_amount" // booked, the answer's amount (field 4) changed
	FaultSystemError FaultKind = "system_error" // answered 96, nothing booked
	FaultDuplicate   FaultKind = "duplicate"    // booked, the answer written twice
)

var faultKinds = []FaultKind{FaultNoAnswer, FaultLate, FaultReset, FaultPartial, FaultBadMAC,
	FaultWrongTrace, FaultWrongTID, FaultWrongAmount, FaultSystemError, FaultDuplicate}

// Fault is a fault to inject into the next Count sales, voids or refunds
// (of Amount fen, when Amount is not 0).
type Fault struct {
	Kind   FaultKind `json:"kind"`
	Count  int       `json:"count,omitempty"` // 0 means 1
	Amount int64     `json:"amount,omitempty"`
}

// InjectFault puts f in force, after the faults already pending.
func (s *Server) InjectFault(f Fault) error {
	if !slices.Contains(faultKinds, f.Kind) {
		return fmt.Errorf("injecting fault: unknown kind %q", f.Kind)
	}
	if f.Count < 0 || f.Amount < 0 {
		return fmt.Errorf("injecting fault %s: negative count or amount", f.Kind)
	}
	if f.Count == 0 {
		f.Count = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
	return nil
}

// Faults returns the faults still pending.
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.faults)
}

// takeFault returns the first pending fault for a request of amount fen
// and counts it used; s.mu is held.
func (s *Server) takeFault(amount int64) FaultKind {
	for i := range s.faults {
		f := &s.faults[i]
		if f.Amount != 0 && f.Amount != amount {
			continue
		}
		k := f.Kind
		if f.Count--; f.Count <= 0 {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		return k
	}
	return ""
}

// Handler is the admin endpoint: GET /ledger (the ledger, a JSON array),
// GET /faults (those pending) and POST /faults (one Fault as JSON).
func (s *Server) Handler() http.Handler {
	return admin.Handler(func() any { return s.Ledger() }, func() any { return s.Faults() }, s.InjectFault)
}
