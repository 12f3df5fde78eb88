package upqrsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/channels/sim/internal/admin"
	"github.com/posrt/posrt/plugins/channels/sim/internal/gateway"
	upqr "github.com/posrt/posrt/plugins/channels/unionpayqr"
	"github.com/posrt/posrt/plugins/internal/ledger"
)

// Config configures a Server.
type Config struct {
	// Addr is where the gateway listens; default 127.0.0.1:0.
	Addr string
	// AdminAddr, when set, is where the admin endpoint listens (GET
	// /ledger, GET and POST /faults).
	AdminAddr string
	// MerID is the merchant the gateway serves; required.
	MerID string
	// MerchantCert is the merchant's signing certificate: its serial is
	// the certId requests must name, its key verifies them; required.
	MerchantCert *x509.Certificate
	// Root and RootKey are the gateway's root; SigningCert and SigningKey
	// the certificate (issued by Root) and key that sign its answers.
	// Nil generates them (RSA-2048).
	Root        *x509.Certificate
	RootKey     *rsa.PrivateKey
	SigningCert *x509.Certificate
	SigningKey  *rsa.PrivateKey
	// Ledger is the ledger file's path; empty keeps the ledger in memory.
	Ledger string
	// NoSync skips the fsync after each ledger append (benchmarks only).
	NoSync bool
	// UserPaying are amounts (fen) whose pay answers 05 (accepted, in
	// process) until the order is queried UserPayingPolls times (default
	// 2), then paid.
	UserPaying      []int64
	UserPayingPolls int
	// Declines are two-digit endings of amounts the pay refuses 64 (not
	// enough funds); nil means 51, empty (non-nil) none.
	Declines []string
	// MaxRefunds is the number of refunds an order takes; default 50.
	MaxRefunds int
	// CodeLifetime is how long a code from IssueCode pays; default 60s.
	CodeLifetime time.Duration
	// Faults are put in force at the start, as InjectFault does.
	Faults []Fault
	// LateDelay is how long a "late" fault holds the answer; default 90s.
	LateDelay time.Duration
	// Now is the gateway's clock; default time.Now.
	Now func() time.Time
}

// Issue makes an RSA-2048 key and a certificate for it named cn, issued
// by parent (with parentKey), or a self-signed root when parent is nil,
// valid from an hour before now for ten years.
func Issue(cn string, parent *x509.Certificate, parentKey *rsa.PrivateKey, now time.Time) (*x509.Certificate, *rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("generating the key of %s: %w", cn, err)
	}
	c, err := IssueFor(cn, key, parent, parentKey, now)
	return c, key, err
}

// IssueFor is Issue for a key of the caller's.
func IssueFor(cn string, key *rsa.PrivateKey, parent *x509.Certificate, parentKey *rsa.PrivateKey, now time.Time) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, fmt.Errorf("drawing a serial number: %w", err)
	}
	tpl := &x509.Certificate{
		SerialNumber: serial.Add(serial, big.NewInt(1)), Subject: pkix.Name{CommonName: cn, Organization: []string{"posrt simulator"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
	}
	signer, signerKey := tpl, key
	if parent == nil {
		tpl.IsCA, tpl.KeyUsage = true, x509.KeyUsageCertSign|x509.KeyUsageDigitalSignature
	} else {
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		return nil, fmt.Errorf("issuing the certificate of %s: %w", cn, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("reading the certificate of %s: %w", cn, err)
	}
	return c, nil
}

func (c *Config) fill() error {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if c.MerID == "" || c.MerchantCert == nil {
		return errors.New("configuring the UnionPay QR simulator: a merId and the merchant's signing certificate are required")
	}
	if _, ok := c.MerchantCert.PublicKey.(*rsa.PublicKey); !ok {
		return errors.New("configuring the UnionPay QR simulator: the merchant's certificate holds no RSA key")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Root == nil || c.RootKey == nil {
		var err error
		if c.Root, c.RootKey, err = Issue("posrt UnionPay simulator root", nil, nil, c.Now()); err != nil {
			return fmt.Errorf("configuring the UnionPay QR simulator: %w", err)
		}
		c.SigningCert = nil
	}
	if c.SigningCert == nil || c.SigningKey == nil {
		var err error
		if c.SigningCert, c.SigningKey, err = Issue("posrt UnionPay simulator signing", c.Root, c.RootKey, c.Now()); err != nil {
			return fmt.Errorf("configuring the UnionPay QR simulator: %w", err)
		}
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
	if c.CodeLifetime == 0 {
		c.CodeLifetime = time.Minute
	}
	if c.LateDelay == 0 {
		c.LateDelay = 90 * time.Second
	}
	return nil
}

// Server is a running UnionPay online gateway simulator.
type Server struct {
	cfg     Config
	certPEM string
	srv     *gateway.Servers
	stop    func() bool
	done    chan struct{}

	mu     sync.Mutex
	st     *state
	file   *ledger.File[Entry]
	faults []Fault
	issued map[string]time.Time // digests of the codes IssueCode gave, when
	closed bool
}

// Serve starts a gateway with cfg: it replays the ledger, listens, and
// serves until Close or until ctx is done.
func Serve(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, certPEM: string(upqr.EncodeCertificate(cfg.SigningCert)), st: newState(), done: make(chan struct{}), issued: map[string]time.Time{}}
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
// plugin's gateway key); the paths are upqr.PathBackTrans and PathQuery.
func (s *Server) Addr() string { return s.srv.URL() }

// AdminURL is the admin endpoint's base URL, empty without one.
func (s *Server) AdminURL() string { return s.srv.AdminURL() }

// Root is the gateway's root certificate (the plugin's root_cert_file).
func (s *Server) Root() *x509.Certificate { return s.cfg.Root }

// SigningCert is the certificate the gateway signs its answers under.
func (s *Server) SigningCert() *x509.Certificate { return s.cfg.SigningCert }

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

// Trade is what the gateway holds of one consumption.
type Trade struct {
	QueryID  string
	Amount   int64
	RespCode upqr.RespCode // what the pay left: 00 paid, 05 in process, or a refusal
	Paid     bool          // the customer was charged
	Voided   bool          // voided: a paid order was refunded in full
	Refunded int64
	Refunds  int
}

// Trade returns the consumption orderID.
func (s *Server) Trade(orderID string) (Trade, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.txns[orderID]
	if t == nil || t.kind != upqr.TxnPay {
		return Trade{}, false
	}
	return Trade{QueryID: t.queryID, Amount: t.amount, RespCode: t.resp, Paid: t.resp == upqr.RespSuccess && !t.closed, Voided: t.voided, Refunded: t.refunded, Refunds: t.refunds}, true
}

// IssueCode returns a fresh UnionPay payment code (19 digits from 62),
// which pays for Config.CodeLifetime.
func (s *Server) IssueCode() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1e17))
	code := fmt.Sprintf("62%017d", n)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issued[digest(code)] = s.cfg.Now()
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

// Gateway is the gateway: POST of a form to upqr.PathBackTrans (pay,
// void, refund) and upqr.PathQuery (query).
func (s *Server) Gateway() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(upqr.PathBackTrans, s.serve)
	mux.HandleFunc(upqr.PathQuery, s.serve)
	return mux
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, upqr.MaxMessage)
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		s.write(w, answer(upqr.Fields{}, upqr.RespFormat), false)
		return
	}
	p := upqr.Fields{}
	for k, v := range r.PostForm {
		if len(v) != 1 {
			s.write(w, answer(upqr.Fields{}, upqr.RespFormat), false)
			return
		}
		p[k] = v[0]
	}
	a, fault := s.process(r.URL.Path, p)
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
		s.writePartial(w, a)
		return
	}
	s.write(w, a, fault.Kind == FaultBadSign)
}

// echoed are the request fields every answer repeats.
var echoed = []string{upqr.FieldVersion, upqr.FieldEncoding, upqr.FieldBizType, upqr.FieldTxnType, upqr.FieldTxnSubType,
	upqr.FieldAccessType, upqr.FieldMerID, upqr.FieldOrderID, upqr.FieldTxnTime, upqr.FieldTxnAmt, upqr.FieldCurrencyCode, upqr.FieldOrigQryID}

// answer is the answer to request p with code c (and its message).
func answer(p upqr.Fields, c upqr.RespCode) upqr.Fields {
	a := upqr.Fields{}
	for _, k := range echoed {
		if v, ok := p[k]; ok && len(v) <= 64 {
			a[k] = v
		}
	}
	a[upqr.FieldRespCode], a[upqr.FieldRespMsg] = string(c), upqr.Message(c, "")
	return a
}

// process authenticates and handles one request under s.mu.
func (s *Server) process(path string, p upqr.Fields) (upqr.Fields, Fault) {
	txn := upqr.TxnType(p[upqr.FieldTxnType])
	want := upqr.PathBackTrans
	if txn == upqr.TxnQuery {
		want = upqr.PathQuery
	}
	switch {
	case p[upqr.FieldVersion] != upqr.Version510 || p[upqr.FieldSignMethod] != upqr.SignMethodRSA || p[upqr.FieldSignature] == "":
		return answer(p, upqr.RespFormat), Fault{}
	case !slices.Contains(upqr.TxnTypes, txn) || path != want:
		return answer(p, upqr.RespNoPermission), Fault{}
	case p[upqr.FieldCertID] != upqr.CertID(s.cfg.MerchantCert) || !p.Verify(s.cfg.MerchantCert.PublicKey.(*rsa.PublicKey)):
		return answer(p, upqr.RespBadSign), Fault{}
	case p[upqr.FieldMerID] != s.cfg.MerID:
		return answer(p, upqr.RespMerchant), Fault{}
	case !equalFold(p[upqr.FieldEncoding], upqr.EncodingUTF8) || p[upqr.FieldBizType] != upqr.BizTypeQR || p[upqr.FieldAccessType] != upqr.AccessDirect:
		return answer(p, upqr.RespFormat), Fault{}
	case !orderIDRule.MatchString(p[upqr.FieldOrderID]) || !txnTimeRule.MatchString(p[upqr.FieldTxnTime]):
		return answer(p, upqr.RespFormat), Fault{}
	}
	if _, err := time.ParseInLocation(upqr.TimeLayout, p[upqr.FieldTxnTime], upqr.HostZone); err != nil {
		return answer(p, upqr.RespFormat), Fault{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fault := s.takeFault(txn, s.amountOf(p))
	switch fault.Kind {
	case FaultReset:
		return nil, fault
	case FaultSystemError:
		return answer(p, upqr.RespBusy), fault
	}
	a := s.dispatch(txn, p, fault)
	if fault.Kind == FaultDuplicate {
		a = s.dispatch(txn, p, Fault{})
	}
	return a, fault
}

func (s *Server) dispatch(txn upqr.TxnType, p upqr.Fields, fault Fault) upqr.Fields {
	switch txn {
	case upqr.TxnPay:
		return s.pay(p, fault)
	case upqr.TxnVoid:
		return s.void(p)
	case upqr.TxnRefund:
		return s.refund(p)
	}
	return s.query(p)
}

// amountOf is the amount a fault's Amount is matched against: the
// request's txnAmt, else its order's; s.mu is held.
func (s *Server) amountOf(p upqr.Fields) int64 {
	if v, err := strconv.ParseInt(p[upqr.FieldTxnAmt], 10, 64); err == nil {
		return v
	}
	if t := s.st.txns[p[upqr.FieldOrderID]]; t != nil {
		return t.amount
	}
	return 0
}

// encode signs a as the gateway does (version, signMethod, certId and
// signPubKeyCert added) and renders it; badSign corrupts the signature.
func (s *Server) encode(a upqr.Fields, badSign bool) []byte {
	a[upqr.FieldVersion], a[upqr.FieldEncoding], a[upqr.FieldSignMethod] = upqr.Version510, upqr.EncodingUTF8, upqr.SignMethodRSA
	a[upqr.FieldCertID], a[upqr.FieldSignPubKeyCert] = upqr.CertID(s.cfg.SigningCert), s.certPEM
	if err := a.Sign(s.cfg.SigningKey); err != nil {
		return []byte("respCode=06")
	}
	if badSign {
		sig := []byte(a[upqr.FieldSignature])
		sig[0] = map[bool]byte{true: 'B', false: 'A'}[sig[0] == 'A']
		a[upqr.FieldSignature] = string(sig)
	}
	return a.Encode()
}

func (s *Server) write(w http.ResponseWriter, a upqr.Fields, badSign bool) {
	b := s.encode(a, badSign)
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// writePartial writes the headers and half the body, then closes.
func (s *Server) writePartial(w http.ResponseWriter, a upqr.Fields) {
	b := s.encode(a, false)
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: %d\r\n\r\n", len(b))
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

func equalFold(a, b string) bool { return bytes.EqualFold([]byte(a), []byte(b)) }

// FaultKind is a fault the gateway injects.
type FaultKind string

// Fault kinds. Unless said otherwise the request is handled (and booked)
// as usual first.
const (
	FaultNoAnswer    FaultKind = "no_answer"    // handled, then the connection is closed without an answer
	FaultLate        FaultKind = "late"         // handled, answered after Config.LateDelay
	FaultReset       FaultKind = "reset"        // the connection is reset after the request is read; nothing handled
	FaultPartial     FaultKind = "partial"      // handled, half the answer written, then closed
	FaultBadSign     FaultKind = "bad_sign"     // handled, the answer's signature corrupted
	FaultUserPaying  FaultKind = "user_paying"  // pay: answered 05, in process for Fault.Polls queries, then paid
	FaultSystemError FaultKind = "system_error" // answered 06 (busy); nothing handled
	FaultDuplicate   FaultKind = "duplicate"    // handled twice, as if delivered again by a proxy; the second answer is sent
)

var faultKinds = []FaultKind{FaultNoAnswer, FaultLate, FaultReset, FaultPartial, FaultBadSign, FaultUserPaying, FaultSystemError, FaultDuplicate}

// Fault is a fault to inject into the next Count requests (default 1) of
// TxnType (default: pay, void and refund), of Amount fen when Amount is
// not 0 (the request's txnAmt, or its order's).
type Fault struct {
	Kind    FaultKind    `json:"kind"`
	Count   int          `json:"count,omitempty"`
	Amount  int64        `json:"amount,omitempty"`
	TxnType upqr.TxnType `json:"txn_type,omitempty"`
	// Polls is, for user_paying, the queries answering 05 before the
	// order is paid; default 2; -1 never (only a void ends it).
	Polls int `json:"polls,omitempty"`
}

var financial = []upqr.TxnType{upqr.TxnPay, upqr.TxnVoid, upqr.TxnRefund}

// InjectFault puts f in force, after the faults already pending.
func (s *Server) InjectFault(f Fault) error {
	if !slices.Contains(faultKinds, f.Kind) {
		return fmt.Errorf("injecting fault: unknown kind %q", f.Kind)
	}
	if f.Count < 0 || f.Amount < 0 || f.Polls < -1 {
		return fmt.Errorf("injecting fault %s: negative count, amount or polls", f.Kind)
	}
	if f.TxnType != "" && !slices.Contains(upqr.TxnTypes, f.TxnType) {
		return fmt.Errorf("injecting fault %s: unknown txnType %q", f.Kind, f.TxnType)
	}
	if f.Kind == FaultUserPaying && f.TxnType != "" && f.TxnType != upqr.TxnPay {
		return fmt.Errorf("injecting fault %s: only for txnType %s", f.Kind, upqr.TxnPay)
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

// takeFault returns the first pending fault for a request of txn of
// amount fen and counts it used; s.mu is held.
func (s *Server) takeFault(txn upqr.TxnType, amount int64) Fault {
	for i := range s.faults {
		f := &s.faults[i]
		switch {
		case f.Amount != 0 && f.Amount != amount:
			continue
		case f.TxnType == "" && !slices.Contains(financial, txn), f.TxnType != "" && f.TxnType != txn:
			continue
		case f.Kind == FaultUserPaying && txn != upqr.TxnPay:
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
