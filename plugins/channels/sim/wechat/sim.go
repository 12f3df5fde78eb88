package wxsim

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/channels/sim/internal/admin"
	"github.com/posrt/posrt/plugins/channels/sim/internal/gateway"
	"github.com/posrt/posrt/plugins/channels/wechat"
	"github.com/posrt/posrt/plugins/internal/ledger"
)

// Config configures a Server.
type Config struct {
	// Addr is where the gateway listens; default 127.0.0.1:0.
	Addr string
	// AdminAddr, when set, is where the admin endpoint listens (GET
	// /ledger, GET and POST /faults).
	AdminAddr string
	// Merchants are the merchants the gateway serves; at least one.
	Merchants []Merchant
	// Ledger is the ledger file's path; empty keeps the ledger in memory.
	Ledger string
	// NoSync skips the fsync after each ledger append (benchmarks only).
	NoSync bool
	// UserPaying are amounts (fen) whose micropay answers USERPAYING until
	// the order is queried UserPayingPolls times (default 2), then paid.
	UserPaying      []int64
	UserPayingPolls int
	// Declines are two-digit endings of amounts that micropay refuses
	// NOTENOUGH; nil means 51, empty (non-nil) none.
	Declines []string
	// CodeTTL is how long a code from IssueCode stays valid; default 60s.
	CodeTTL time.Duration
	// ReverseAfter is how soon after its creation an order can be
	// reversed (SYSTEMERROR, recall Y before); default 0. ReverseWindow is
	// how long it can (REVERSE_EXPIRE after); default 7 days.
	ReverseAfter, ReverseWindow time.Duration
	// MaxRefunds is the number of refunds an order takes; default 50.
	MaxRefunds int
	// Faults are put in force at the start, as InjectFault does.
	Faults []Fault
	// LateDelay is how long a "late" fault holds the answer; default 90s.
	LateDelay time.Duration
	// Now is the gateway's clock; default time.Now.
	Now func() time.Time
}

func (c *Config) fill() error {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if len(c.Merchants) == 0 {
		return errors.New("configuring the WeChat Pay simulator: no merchants")
	}
	for _, m := range c.Merchants {
		if m.AppID == "" || m.MchID == "" || m.Key == "" {
			return fmt.Errorf("configuring the WeChat Pay simulator: merchant %q needs an appid, a mch_id and a key", m.MchID)
		}
	}
	if c.UserPayingPolls == 0 {
		c.UserPayingPolls = 2
	}
	if c.Declines == nil {
		c.Declines = []string{"51"}
	}
	if c.CodeTTL == 0 {
		c.CodeTTL = time.Minute
	}
	if c.ReverseWindow == 0 {
		c.ReverseWindow = 7 * 24 * time.Hour
	}
	if c.MaxRefunds == 0 {
		c.MaxRefunds = 50
	}
	if c.LateDelay == 0 {
		c.LateDelay = 90 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Server is a running WeChat Pay API v2 gateway simulator.
type Server struct {
	cfg  Config
	srv  *gateway.Servers
	stop func() bool
	done chan struct{}

	mu     sync.Mutex
	st     *state
	file   *ledger.File[Entry]
	faults []Fault
	issued map[string]time.Time
	closed bool
}

// Serve starts a gateway with cfg: it replays the ledger, listens, and
// serves until Close or until ctx is done.
func Serve(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, st: newState(), issued: map[string]time.Time{}, done: make(chan struct{})}
	for _, f := range cfg.Faults {
		if err := s.InjectFault(f); err != nil {
			return nil, err
		}
	}
	if cfg.Ledger != "" {
		f, err := ledger.Open(cfg.Ledger, !cfg.NoSync, Entry.Valid, s.st.apply)
		if err != nil {
			return nil, fmt.Errorf("opening the simulator's ledger: %w", err)
		}
		s.file = f
	}
	srv, err := gateway.Listen(ctx, cfg.Addr, s.Gateway(), cfg.AdminAddr, s.Handler())
	if err != nil {
		s.closeLedger()
		return nil, err
	}
	s.srv = srv
	s.stop = context.AfterFunc(ctx, func() { _ = s.Close() })
	return s, nil
}

// Addr is the gateway's base URL, such as http://127.0.0.1:41234 (the
// plugin's gateway key); the API paths follow it.
func (s *Server) Addr() string { return s.srv.URL() }

// AdminURL is the admin endpoint's base URL, empty without one.
func (s *Server) AdminURL() string { return s.srv.AdminURL() }

// Close stops serving, drops open connections (a late answer is never
// sent) and closes the ledger.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	if s.stop != nil {
		s.stop()
	}
	err := s.srv.Close()
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

// Trade is what the gateway holds of one order.
type Trade struct {
	State    wechat.Code // trade_state as orderquery answers it
	Amount   int64
	Paid     bool // the customer was charged (a reversed paid order was refunded in full)
	Refunded int64
	Refunds  int
}

// Trade returns the order out_trade_no of merchant mchID.
func (s *Server) Trade(mchID, outTradeNo string) (Trade, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.order(mchID, outTradeNo)
	if o == nil || o.unknown {
		return Trade{}, false
	}
	return Trade{State: o.tradeState(), Amount: o.amount, Paid: !o.paid.IsZero(), Refunded: o.refunded, Refunds: len(o.refunds)}, true
}

// IssueCode returns a fresh payment code, valid Config.CodeTTL from now
// (codes the gateway did not issue never expire, but each is used once).
func (s *Server) IssueCode() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1e16))
	code := fmt.Sprintf("13%016d", n)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issued[code] = s.cfg.Now()
	return code
}

// book appends e to the ledger, then applies it; s.mu is held.
func (s *Server) book(e Entry) error {
	if s.file != nil {
		if err := s.file.Append(e); err != nil {
			return err
		}
	}
	return s.st.apply(e)
}

// Gateway is the API v2 gateway: POST of an <xml> message to one of the
// five paths.
func (s *Server) Gateway() http.Handler {
	mux := http.NewServeMux()
	for _, p := range []string{wechat.PathMicropay, wechat.PathOrderQuery, wechat.PathReverse, wechat.PathRefund, wechat.PathRefundQuery} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, p) })
	}
	return mux
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, path string) {
	if r.Method != http.MethodPost {
		s.write(w, gatewayFail("请使用post方法"), Merchant{}, wechat.SignMD5, false)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, wechat.MaxMessage+1))
	if err != nil {
		return
	}
	a, m, st, fault := s.process(path, body)
	switch fault.Kind {
	case FaultNoAnswer:
		hijack(w, false)
		return
	case FaultReset:
		hijack(w, true)
		return
	case FaultLate:
		select {
		case <-time.After(s.cfg.LateDelay):
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	case FaultPartial:
		s.writePartial(w, a, m, st)
		return
	}
	s.write(w, a, m, st, fault.Kind == FaultBadSign)
}

// process decodes, authenticates and handles one request under s.mu.
func (s *Server) process(path string, body []byte) (answer, Merchant, wechat.SignType, Fault) {
	f, err := wechat.Decode(body)
	if err != nil {
		return gatewayFail("XML格式错误"), Merchant{}, wechat.SignMD5, Fault{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var m Merchant
	for _, mm := range s.cfg.Merchants {
		if mm.MchID == f["mch_id"] {
			m = mm
		}
	}
	if m.MchID == "" {
		return gatewayFail("mch_id参数格式错误"), m, wechat.SignMD5, Fault{}
	}
	st, err := wechat.ParseSignType(f["sign_type"])
	if err != nil {
		return gatewayFail("sign_type参数格式错误"), m, wechat.SignMD5, Fault{}
	}
	if !wechat.Verify(f, m.Key, st) {
		return gatewayFail("签名错误"), m, st, Fault{}
	}
	if f["appid"] != m.AppID {
		return fail(wechat.CodeAppIDMchIDMismatch, "appid和mch_id不匹配"), m, st, Fault{}
	}
	if f["nonce_str"] == "" {
		return fail(wechat.CodeLackParams, "缺少参数nonce_str"), m, st, Fault{}
	}
	if a, ok := s.byTransactionID(path, m, f); !ok {
		return a, m, st, Fault{}
	}
	fault := s.takeFault(path, s.amountOf(path, m, f))
	switch fault.Kind {
	case FaultReset:
		return answer{}, m, st, fault
	case FaultSystemError:
		a := fail(wechat.CodeSystemError, "系统超时")
		if path == wechat.PathReverse {
			a.fields["recall"] = "Y"
		}
		return a, m, st, fault
	}
	a := s.dispatch(path, m, f, fault)
	if fault.Kind == FaultDuplicate {
		a = s.dispatch(path, m, f, Fault{})
	}
	return a, m, st, fault
}

// byTransactionID lets orderquery, refund and refundquery name the order
// by WeChat's transaction_id instead of out_trade_no (WeChat takes either
// and prefers transaction_id; reverse requires out_trade_no): it sets f's
// out_trade_no to the order's, or answers ORDERNOTEXIST (REFUNDNOTEXIST
// for refundquery) for a number it never gave. s.mu is held.
func (s *Server) byTransactionID(path string, m Merchant, f wechat.Fields) (answer, bool) {
	txn := f["transaction_id"]
	if txn == "" || path == wechat.PathMicropay || path == wechat.PathReverse {
		return answer{}, true
	}
	for _, o := range s.st.orders {
		if o.mch == m.MchID && o.txn == txn && !o.unknown {
			f["out_trade_no"] = o.no
			return answer{}, true
		}
	}
	if path == wechat.PathRefundQuery {
		return fail(wechat.CodeRefundNotExist, "退款订单查询失败"), false
	}
	return fail(wechat.CodeOrderNotExist, "订单不存在"), false
}

func (s *Server) dispatch(path string, m Merchant, f wechat.Fields, fault Fault) answer {
	switch path {
	case wechat.PathMicropay:
		return s.micropay(m, f, fault)
	case wechat.PathOrderQuery:
		return s.orderquery(m, f)
	case wechat.PathReverse:
		return s.reverse(m, f)
	case wechat.PathRefund:
		return s.refund(m, f)
	}
	return s.refundquery(m, f)
}

// amountOf is the amount a fault's Amount is matched against: the request's
// total_fee or refund_fee, else its order's; s.mu is held.
func (s *Server) amountOf(path string, m Merchant, f wechat.Fields) int64 {
	name := "total_fee"
	if path == wechat.PathRefund {
		name = "refund_fee"
	}
	if v, err := strconv.ParseInt(f[name], 10, 64); err == nil {
		return v
	}
	if o := s.st.order(m.MchID, f["out_trade_no"]); o != nil {
		return o.amount
	}
	return 0
}

// encode signs a's fields for m (unless a is unsigned) with fresh
// appid, mch_id and nonce_str, and renders them.
func encode(a answer, m Merchant, st wechat.SignType, badSign bool) []byte {
	f := a.fields
	if !a.unsigned {
		f["appid"], f["mch_id"], f["nonce_str"] = m.AppID, m.MchID, nonceStr()
		f["sign"] = wechat.Sign(f, m.Key, st)
		if badSign {
			b := []byte(f["sign"])
			b[0] = "01"[b[0]&1]
			if b[0] == f["sign"][0] {
				b[0] = 'F'
			}
			f["sign"] = string(b)
		}
	}
	return wechat.Encode(f)
}

func (s *Server) write(w http.ResponseWriter, a answer, m Merchant, st wechat.SignType, badSign bool) {
	b := encode(a, m, st, badSign)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// writePartial writes the headers and half the body, then closes.
func (s *Server) writePartial(w http.ResponseWriter, a answer, m Merchant, st wechat.SignType) {
	b := encode(a, m, st, false)
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: %d\r\n\r\n", len(b))
	_, _ = buf.Write(b[:len(b)/2])
	_ = buf.Flush()
}

// hijack closes the connection without an answer; reset makes it an RST.
func hijack(w http.ResponseWriter, reset bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok && reset {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

const nonceChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func nonceStr() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = nonceChars[int(b[i])%len(nonceChars)]
	}
	return string(b)
}

// FaultKind is a fault the gateway injects.
type FaultKind string

// Fault kinds. Unless said otherwise the request is handled (and booked)
// as usual first.
const (
	FaultNoAnswer    FaultKind = "no_answer"    // handled, then the connection is closed without an answer
	FaultLate        FaultKind = "late"         // handled, answered after Config.LateDelay
	FaultReset       FaultKind = "reset"        // the connection is reset after the request is read; nothing handled
	FaultPartial     FaultKind = "partial"      // handled, half the answer written, then closed
	FaultBadSign     FaultKind = "bad_sign"     // handled, the answer's sign corrupted
	FaultUserPaying  FaultKind = "user_paying"  // micropay: the order waits Fault.Polls queries (USERPAYING), then is paid
	FaultSystemError FaultKind = "system_error" // answered SYSTEMERROR (recall Y for a reverse); nothing handled
	FaultDuplicate   FaultKind = "duplicate"    // handled twice, as if delivered again by a proxy; the second answer is sent
)

var faultKinds = []FaultKind{FaultNoAnswer, FaultLate, FaultReset, FaultPartial, FaultBadSign, FaultUserPaying, FaultSystemError, FaultDuplicate}

// Fault is a fault to inject into the next Count requests (default 1) to
// Path (default: micropay, reverse and refund), of Amount fen when Amount
// is not 0 (the total_fee or refund_fee, or the order's).
type Fault struct {
	Kind   FaultKind `json:"kind"`
	Count  int       `json:"count,omitempty"`
	Amount int64     `json:"amount,omitempty"`
	Path   string    `json:"path,omitempty"`
	// Polls is, for user_paying, the orderquery calls before the order
	// is paid; default 2; -1 never (only a reverse ends it).
	Polls int `json:"polls,omitempty"`
}

var financial = []string{wechat.PathMicropay, wechat.PathReverse, wechat.PathRefund}

// InjectFault puts f in force, after the faults already pending.
func (s *Server) InjectFault(f Fault) error {
	if !slices.Contains(faultKinds, f.Kind) {
		return fmt.Errorf("injecting fault: unknown kind %q", f.Kind)
	}
	if f.Count < 0 || f.Amount < 0 || f.Polls < -1 {
		return fmt.Errorf("injecting fault %s: negative count, amount or polls", f.Kind)
	}
	if f.Path != "" && !slices.Contains([]string{wechat.PathMicropay, wechat.PathOrderQuery, wechat.PathReverse, wechat.PathRefund, wechat.PathRefundQuery}, f.Path) {
		return fmt.Errorf("injecting fault %s: unknown path %q", f.Kind, f.Path)
	}
	if f.Kind == FaultUserPaying && f.Path != "" && f.Path != wechat.PathMicropay {
		return fmt.Errorf("injecting fault %s: only for %s", f.Kind, wechat.PathMicropay)
	}
	if f.Count == 0 {
		f.Count = 1
	}
	if f.Polls == 0 {
		f.Polls = 2
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

// takeFault returns the first pending fault for a request to path of
// amount fen and counts it used; s.mu is held.
func (s *Server) takeFault(path string, amount int64) Fault {
	for i := range s.faults {
		f := &s.faults[i]
		switch {
		case f.Amount != 0 && f.Amount != amount:
			continue
		case f.Path == "" && !slices.Contains(financial, path), f.Path != "" && f.Path != path:
			continue
		case f.Kind == FaultUserPaying && path != wechat.PathMicropay:
			continue
		}
		got := *f
		if f.Count--; f.Count <= 0 {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		return got
	}
	return Fault{}
}

// Handler is the admin endpoint: GET /ledger (the ledger, a JSON array),
// GET /faults (those pending) and POST /faults (one Fault as JSON).
func (s *Server) Handler() http.Handler {
	return admin.Handler(func() any { return s.Ledger() }, func() any { return s.Faults() }, s.InjectFault)
}
