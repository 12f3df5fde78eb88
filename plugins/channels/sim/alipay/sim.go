package alisim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/channels/alipay"
	"github.com/posrt/posrt/plugins/channels/sim/internal/admin"
	"github.com/posrt/posrt/plugins/channels/sim/internal/gateway"
	"github.com/posrt/posrt/plugins/internal/ledger"
)

// Config configures a Server.
type Config struct {
	// Addr is where the gateway listens; default 127.0.0.1:0.
	Addr string
	// AdminAddr, when set, is where the admin endpoint listens (GET
	// /ledger, GET and POST /faults).
	AdminAddr string
	// AppID is the merchant application the gateway serves; required.
	AppID string
	// MerchantKey is the merchant's public key, which verifies requests;
	// required.
	MerchantKey *rsa.PublicKey
	// Key is the gateway's own private key, which signs answers; nil
	// generates a 2048-bit one.
	Key *rsa.PrivateKey
	// Ledger is the ledger file's path; empty keeps the ledger in memory.
	Ledger string
	// NoSync skips the fsync after each ledger append (benchmarks only).
	NoSync bool
	// UserPaying are amounts (fen) whose trade.pay answers 10003 until the
	// order is queried UserPayingPolls times (default 2), then paid.
	UserPaying      []int64
	UserPayingPolls int
	// Declines are two-digit endings of amounts that trade.pay refuses
	// ACQ.BUYER_BALANCE_NOT_ENOUGH; nil means 51, empty (non-nil) none.
	Declines []string
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
	if c.AppID == "" || c.MerchantKey == nil {
		return errors.New("configuring the Alipay simulator: an app_id and the merchant's public key are required")
	}
	if c.Key == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return fmt.Errorf("configuring the Alipay simulator: generating its key: %w", err)
		}
		c.Key = k
	}
	if c.UserPayingPolls == 0 {
		c.UserPayingPolls = 2
	}
	if c.Declines == nil {
		c.Declines = []string{"51"}
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

// Server is a running Alipay openapi gateway simulator.
type Server struct {
	cfg  Config
	srv  *gateway.Servers
	stop func() bool
	done chan struct{}

	mu     sync.Mutex
	st     *state
	file   *ledger.File[Entry]
	faults []Fault
	closed bool
}

// Serve starts a gateway with cfg: it replays the ledger, listens, and
// serves until Close or until ctx is done.
func Serve(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, st: newState(), done: make(chan struct{})}
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

// Addr is the gateway's URL, such as http://127.0.0.1:41234/gateway.do
// (the plugin's gateway key).
func (s *Server) Addr() string { return s.srv.URL() + alipay.GatewayPath }

// AdminURL is the admin endpoint's base URL, empty without one.
func (s *Server) AdminURL() string { return s.srv.AdminURL() }

// PublicKey is the gateway's public key, which verifies its answers (the
// plugin's alipay_public_key_file).
func (s *Server) PublicKey() *rsa.PublicKey { return &s.cfg.Key.PublicKey }

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
	Status    alipay.TradeStatus // trade_status as trade.query answers it
	Amount    int64
	Paid      bool // the customer was charged
	Cancelled bool // cancelled: a paid order was refunded in full
	Refunded  int64
	Refunds   int
}

// Trade returns the order outTradeNo.
func (s *Server) Trade(outTradeNo string) (Trade, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.orders[outTradeNo]
	if o == nil || o.unknown {
		return Trade{}, false
	}
	return Trade{Status: o.status, Amount: o.amount, Paid: !o.paid.IsZero(), Cancelled: o.cancelled, Refunded: o.refunded, Refunds: len(o.refunds)}, true
}

// IssueCode returns a fresh Alipay payment code (18 digits from 28).
func (s *Server) IssueCode() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1e16))
	return fmt.Sprintf("28%016d", n)
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

// Gateway is the openapi gateway: POST of a form to /gateway.do.
func (s *Server) Gateway() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(alipay.GatewayPath, s.serve)
	return mux
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, alipay.MaxMessage)
	m := alipay.Method(r.FormValue("method"))
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		s.write(w, m, answer{Code: alipay.CodeMissingParam, Msg: "Missing Required Arguments", SubCode: "isv.missing-method"}, false)
		return
	}
	p := alipay.Params{}
	for k, v := range r.PostForm {
		p[k] = v[0]
	}
	a, fault := s.process(m, p)
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
		s.writePartial(w, m, a)
		return
	}
	s.write(w, m, a, fault.Kind == FaultBadSign)
}

// process authenticates and handles one request under s.mu.
func (s *Server) process(m alipay.Method, p alipay.Params) (answer, Fault) {
	switch {
	case !slices.Contains(alipay.Methods, m):
		return answer{Code: alipay.CodeInvalidParam, Msg: "Invalid Arguments", SubCode: "isv.invalid-method"}, Fault{}
	case p["app_id"] != s.cfg.AppID:
		return answer{Code: alipay.CodeInvalidParam, Msg: "Invalid Arguments", SubCode: "isv.invalid-app-id"}, Fault{}
	case p["sign_type"] != "RSA2":
		return answer{Code: alipay.CodeInvalidParam, Msg: "Invalid Arguments", SubCode: "isv.invalid-signature-type"}, Fault{}
	case p["charset"] != "utf-8" || p["version"] != "1.0" || p["timestamp"] == "":
		return answer{Code: alipay.CodeInvalidParam, Msg: "Invalid Arguments", SubCode: "isv.invalid-parameter"}, Fault{}
	case !p.Verify(s.cfg.MerchantKey):
		return answer{Code: alipay.CodeInvalidParam, Msg: "Invalid Arguments", SubCode: "isv.invalid-signature", SubMsg: "验签出错"}, Fault{}
	}
	var b biz
	if err := json.Unmarshal([]byte(p["biz_content"]), &b); err != nil {
		return answer{Code: alipay.CodeInvalidParam, Msg: "Invalid Arguments", SubCode: "isv.invalid-biz-content"}, Fault{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.TradeNo != "" && m != alipay.MethodPay {
		// Alipay takes trade_no instead of out_trade_no, and prefers it.
		o := s.st.byTradeNo(b.TradeNo)
		if o == nil {
			return fail(alipay.SubTradeNotExist, "交易不存在"), Fault{}
		}
		b.OutTradeNo = o.no
	}
	fault := s.takeFault(m, s.amountOf(m, b))
	switch fault.Kind {
	case FaultReset:
		return answer{}, fault
	case FaultSystemError:
		a := answer{Code: alipay.CodeUnknown, Msg: "Service Currently Unavailable", SubCode: "aop.ACQ.SYSTEM_ERROR", SubMsg: "系统繁忙"}
		if m == alipay.MethodCancel {
			a.RetryFlag = alipay.FlagYes
		}
		return a, fault
	}
	a := s.dispatch(m, b, fault)
	if fault.Kind == FaultDuplicate {
		a = s.dispatch(m, b, Fault{})
	}
	return a, fault
}

// biz is the biz_content of the five methods.
type biz struct {
	OutTradeNo   string   `json:"out_trade_no"`
	TradeNo      string   `json:"trade_no"`
	Scene        string   `json:"scene"`
	AuthCode     string   `json:"auth_code"`
	Subject      string   `json:"subject"`
	TotalAmount  string   `json:"total_amount"`
	OutRequestNo string   `json:"out_request_no"`
	RefundAmount string   `json:"refund_amount"`
	QueryOptions []string `json:"query_options"`
}

func (s *Server) dispatch(m alipay.Method, b biz, fault Fault) answer {
	switch m {
	case alipay.MethodPay:
		return s.pay(b, fault)
	case alipay.MethodQuery:
		return s.query(b)
	case alipay.MethodCancel:
		return s.cancel(b)
	case alipay.MethodRefund:
		return s.refund(b)
	}
	return s.refundQuery(b)
}

// amountOf is the amount a fault's Amount is matched against: the
// request's total_amount or refund_amount, else its order's; s.mu is held.
func (s *Server) amountOf(m alipay.Method, b biz) int64 {
	v := b.TotalAmount
	if m == alipay.MethodRefund {
		v = b.RefundAmount
	}
	if fen, err := alipay.ParseYuan(v); err == nil {
		return fen
	}
	if o := s.st.orders[b.OutTradeNo]; o != nil {
		return o.amount
	}
	return 0
}

type answer = alipay.Response

// encode renders a as the gateway's signed answer to m; badSign corrupts
// the sign.
func (s *Server) encode(m alipay.Method, a answer, badSign bool) []byte {
	if !slices.Contains(alipay.Methods, m) {
		m = "error"
	}
	b, err := alipay.EncodeResponse(m, a, s.cfg.Key)
	if err != nil {
		return []byte(`{}`)
	}
	if badSign {
		// Change the sign's first base64 digit.
		if i := bytes.LastIndex(b, []byte(`"sign":"`)); i >= 0 && i+8 < len(b) {
			j := i + 8
			b[j] = map[bool]byte{true: 'B', false: 'A'}[b[j] == 'A']
		}
	}
	return b
}

func (s *Server) write(w http.ResponseWriter, m alipay.Method, a answer, badSign bool) {
	b := s.encode(m, a, badSign)
	w.Header().Set("Content-Type", "text/html;charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// writePartial writes the headers and half the body, then closes.
func (s *Server) writePartial(w http.ResponseWriter, m alipay.Method, a answer) {
	b := s.encode(m, a, false)
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/html;charset=utf-8\r\nContent-Length: %d\r\n\r\n", len(b))
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
	FaultUserPaying  FaultKind = "user_paying"  // trade.pay: the order waits Fault.Polls queries (10003), then is paid
	FaultSystemError FaultKind = "system_error" // answered 20000 (retry_flag Y for a cancel); nothing handled
	FaultDuplicate   FaultKind = "duplicate"    // handled twice, as if delivered again by a proxy; the second answer is sent
)

var faultKinds = []FaultKind{FaultNoAnswer, FaultLate, FaultReset, FaultPartial, FaultBadSign, FaultUserPaying, FaultSystemError, FaultDuplicate}

// Fault is a fault to inject into the next Count requests (default 1) of
// Method (default: trade.pay, trade.cancel and trade.refund), of Amount
// fen when Amount is not 0 (the total_amount or refund_amount, or the
// order's).
type Fault struct {
	Kind   FaultKind     `json:"kind"`
	Count  int           `json:"count,omitempty"`
	Amount int64         `json:"amount,omitempty"`
	Method alipay.Method `json:"method,omitempty"`
	// Polls is, for user_paying, the trade.query calls before the order
	// is paid; default 2; -1 never (only a cancel ends it).
	Polls int `json:"polls,omitempty"`
}

var financial = []alipay.Method{alipay.MethodPay, alipay.MethodCancel, alipay.MethodRefund}

// InjectFault puts f in force, after the faults already pending.
func (s *Server) InjectFault(f Fault) error {
	if !slices.Contains(faultKinds, f.Kind) {
		return fmt.Errorf("injecting fault: unknown kind %q", f.Kind)
	}
	if f.Count < 0 || f.Amount < 0 || f.Polls < -1 {
		return fmt.Errorf("injecting fault %s: negative count, amount or polls", f.Kind)
	}
	if f.Method != "" && !slices.Contains(alipay.Methods, f.Method) {
		return fmt.Errorf("injecting fault %s: unknown method %q", f.Kind, f.Method)
	}
	if f.Kind == FaultUserPaying && f.Method != "" && f.Method != alipay.MethodPay {
		return fmt.Errorf("injecting fault %s: only for %s", f.Kind, alipay.MethodPay)
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

// takeFault returns the first pending fault for a request of m of amount
// fen and counts it used; s.mu is held.
func (s *Server) takeFault(m alipay.Method, amount int64) Fault {
	for i := range s.faults {
		f := &s.faults[i]
		switch {
		case f.Amount != 0 && f.Amount != amount:
			continue
		case f.Method == "" && !slices.Contains(financial, m), f.Method != "" && f.Method != m:
			continue
		case f.Kind == FaultUserPaying && m != alipay.MethodPay:
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
