package unionpayqr

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/internal/gatewayclient"
	"github.com/posrt/posrt/plugins/channels/internal/probe"
)

// Name is the plugin's name, as posrt serves it (posrt plugin serve unionpay-qr).
const Name = "unionpay-qr"

// Medium is the medium of the plugin's trades in the terminal's books.
const Medium = "unionpay_qr"

// Version is the plugin's version.
const Version = "0.1.0"

type config struct {
	gateway    *url.URL
	merID      string
	certID     string
	key        *rsa.PrivateKey
	verifier   *Verifier
	timeout    time.Duration
	probeEvery time.Duration // how long a Health query of the gateway stands
	client     *http.Client
	observe    *probe.Cache // where each call's outcome is kept as the last probe
	now        func() time.Time
	stateFile  string
	configured bool
}

// UnionPayQR is the UnionPay online gateway's payment-code (C2B, 被扫)
// channel: it implements channels.Wallet over ACP 5.1.0 back-end and
// query transactions, each request signed with the merchant's signing
// certificate's key and each answer verified under the signing
// certificate it carries, once that chains to the configured root. It
// remembers, in memory, the txnTime of each transaction it sent and the
// voids and refunds of each order (ACP finds a transaction by orderId and
// txnTime, and an original's query does not show its voids or refunds).
// It logs nothing; its errors show payment codes masked and never a key.
type UnionPayQR struct {
	mu    sync.Mutex
	cfg   config
	mem   *memory
	probe probe.Cache // the last Health query of the gateway
}

var _ channels.Wallet = (*UnionPayQR)(nil)

// New returns an unconfigured plugin. It does no I/O.
func New() *UnionPayQR { return &UnionPayQR{mem: newMemory()} }

func info() base.Info {
	return base.Info{Kind: base.KindWallet, Name: Name, Version: Version, APIVersions: channels.WalletAPIVersions,
		Capabilities: []string{channels.CapabilityReconcile}}
}

// Info implements base.Base.
func (u *UnionPayQR) Info(context.Context) (base.Info, error) { return info(), nil }

// Configure implements base.Base; see the package README for the keys. A
// rejected configuration leaves the plugin as it was.
func (u *UnionPayQR) Configure(_ context.Context, apiVersion string, m map[string]string) error {
	if err := base.CheckAPIVersion(info(), apiVersion); err != nil {
		return err
	}
	c := config{timeout: 30 * time.Second, now: time.Now, probeEvery: probe.DefaultEvery, observe: &u.probe}
	var certFile, keyFile, rootFile, middleFile, stateFile string
	keys := []string{"gateway", "mer_id", "sign_cert_file", "sign_key_file", "root_cert_file", "middle_cert_file", "state_file", "timeout", "probe_every"}
	err := base.EachConfigKey(m, Name, keys, func(k base.ConfigKey) error {
		switch k.Name {
		case "gateway":
			u, err := url.Parse(k.Value)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
				return k.Bad("an http or https base URL such as https://gateway.95516.com")
			}
			u.Path = ""
			c.gateway = u
		case "mer_id":
			if !merIDRule.MatchString(k.Value) {
				return k.Bad("a 15-character merchant code")
			}
			c.merID = k.Value
		case "sign_cert_file":
			certFile = k.Value
		case "sign_key_file":
			keyFile = k.Value
		case "root_cert_file":
			rootFile = k.Value
		case "middle_cert_file":
			middleFile = k.Value
		case "state_file":
			stateFile = k.Value
		case "timeout", "probe_every":
			d, err := time.ParseDuration(k.Value)
			if err != nil || d <= 0 {
				return k.Bad("a positive duration such as 30s")
			}
			if k.Name == "timeout" {
				c.timeout = d
			} else {
				c.probeEvery = d
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	switch {
	case c.gateway == nil:
		return fmt.Errorf("config key gateway: required by %s", Name)
	case c.merID == "":
		return fmt.Errorf("config key mer_id: required by %s", Name)
	case certFile == "" || keyFile == "" || rootFile == "":
		return fmt.Errorf("config keys sign_cert_file, sign_key_file and root_cert_file: required by %s", Name)
	case stateFile == "":
		// Without the txnTimes sent, a restarted plugin's query of a pay
		// whose answer was lost finds nothing, and the order UnionPay may
		// have charged would be cancelled as never paid.
		return fmt.Errorf("config key state_file: required by %s (the txnTime of each request sent, kept across restarts so that an unknown outcome can be queried)", Name)
	}
	read := func(key, file string) ([]byte, error) {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("config key %s: reading %s: %w", key, file, err)
		}
		return b, nil
	}
	b, err := read("sign_key_file", keyFile)
	if err != nil {
		return err
	}
	if c.key, err = ParsePrivateKey(b); err != nil {
		return fmt.Errorf("config key sign_key_file: %w", err)
	}
	if b, err = read("sign_cert_file", certFile); err != nil {
		return err
	}
	certs, err := ParseCertificates(b)
	if err != nil {
		return fmt.Errorf("config key sign_cert_file: %w", err)
	}
	if pk, ok := certs[0].PublicKey.(*rsa.PublicKey); !ok || !pk.Equal(&c.key.PublicKey) {
		return errors.New("config keys sign_cert_file and sign_key_file: the certificate is not the key's")
	}
	c.certID = CertID(certs[0])
	if b, err = read("root_cert_file", rootFile); err != nil {
		return err
	}
	roots, err := ParseCertificates(b)
	if err != nil {
		return fmt.Errorf("config key root_cert_file: %w", err)
	}
	var middles []*x509.Certificate
	if middleFile != "" {
		if b, err = read("middle_cert_file", middleFile); err != nil {
			return err
		}
		if middles, err = ParseCertificates(b); err != nil {
			return fmt.Errorf("config key middle_cert_file: %w", err)
		}
	}
	c.verifier = NewVerifier(roots, middles, c.now)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	tr.MaxIdleConnsPerHost = 4
	c.client = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	c.configured = true
	c.stateFile = stateFile
	u.mu.Lock()
	defer u.mu.Unlock()
	mem := u.mem
	if stateFile != u.cfg.stateFile || !u.cfg.configured {
		mem = newMemory()
		if stateFile != "" {
			if mem, err = openMemory(stateFile); err != nil {
				return fmt.Errorf("config key state_file: %w", err)
			}
		}
		u.mem.close()
	}
	if u.cfg.client != nil {
		u.cfg.client.CloseIdleConnections()
	}
	u.cfg, u.mem = c, mem
	u.probe.Reset(c.probeEvery)
	return nil
}

func (u *UnionPayQR) config() (config, *memory, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.cfg.configured {
		return config{}, nil, fmt.Errorf("%w: %s is not configured", channels.ErrNotSent, Name)
	}
	return u.cfg, u.mem, nil
}

// healthOrder is the orderId Health queries, which no terminal uses.
const healthOrder = "POSRTHEALTH"

// Health implements base.Base: a query of an order number no terminal
// uses, which a working gateway answers 34 (not found), signed. Its
// answer stands for probe_every (1m): the gateway is not asked at each of
// posrt's liveness checks.
func (u *UnionPayQR) Health(ctx context.Context) (base.Health, error) {
	return u.probe.Health(ctx, u.probeGateway), nil
}

// Watch implements base.Watcher: the gateway's state as the last probe or
// call found it, and an error event for every call that could not reach
// it or got an answer that cannot be trusted.
func (u *UnionPayQR) Watch(ctx context.Context, send func(base.Event) error) error {
	return u.probe.Watch(ctx, send, u.probeGateway)
}

// probeGateway asks the gateway about an order number no terminal uses.
func (u *UnionPayQR) probeGateway(ctx context.Context) base.Health {
	cfg, _, err := u.config()
	if err != nil {
		return base.Health{State: base.StateOffline, Detail: "not configured"}
	}
	r, err := cfg.call(ctx, PathQuery, Fields{FieldTxnType: string(TxnQuery), FieldTxnSubType: SubTypeDefault, FieldOrderID: healthOrder, FieldTxnTime: cfg.stamp()})
	code := RespCode(r[FieldRespCode])
	switch {
	case err == nil && (code == RespSuccess || code == RespNotFound):
		return base.Health{State: base.StateIdle}
	case err == nil:
		return base.Health{State: base.StateError, Detail: fmt.Sprintf("the gateway answered %s (%s)", code, r[FieldRespMsg])}
	case errors.Is(err, ErrBadSign):
		return base.Health{State: base.StateError, Detail: "the gateway's answer does not verify under the configured root certificate"}
	}
	return base.Health{State: base.StateOffline, Detail: err.Error()}
}

func (c config) stamp() string { return c.now().In(HostZone).Format(TimeLayout) }

// RequestFields are the fields of a request: f plus the fixed fields
// (version, encoding, signMethod, bizType, accessType, merId, certId),
// signed with key.
func RequestFields(merID, certID string, f Fields, key *rsa.PrivateKey) (Fields, error) {
	p := Fields{
		FieldVersion: Version510, FieldEncoding: EncodingUTF8, FieldSignMethod: SignMethodRSA, FieldBizType: BizTypeQR,
		FieldAccessType: AccessDirect, FieldMerID: merID, FieldCertID: certID,
	}
	for k, v := range f {
		if v != "" {
			p[k] = v
		}
	}
	if err := p.Sign(key); err != nil {
		return nil, err
	}
	return p, nil
}

// call sends one request of fields f to path and returns the answer once
// it is trusted: signed under a certificate of the configured root, for
// this merId and f's orderId (and txnAmt, when f has one and the answer
// carries it). An error is channels.ErrNotSent when no connection to the
// gateway was made, else channels.ErrNoAnswer wrapping the cause.
func (c config) call(ctx context.Context, path string, f Fields) (Fields, error) {
	p, err := RequestFields(c.merID, c.certID, f, c.key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", channels.ErrNotSent, err)
	}
	txn := TxnType(f[FieldTxnType])
	form := url.Values{}
	for k, v := range p {
		form.Set(k, v)
	}
	body, err := gatewayclient.Post(ctx, c.client, gatewayclient.Request{
		URL: c.gateway.String() + path, ContentType: "application/x-www-form-urlencoded;charset=UTF-8", Body: []byte(form.Encode()),
		What: "txnType " + string(txn), Timeout: c.timeout, MaxAnswer: MaxMessage,
	}, c.observe)
	if err != nil {
		return nil, err
	}
	r, err := c.trusted(body, txn, f)
	if err != nil {
		c.observe.Observe(err)
	}
	return r, err
}

// trusted parses the body of the gateway's answer to a txnType request of
// fields f and returns it once its signature verifies and it is about this
// merchant, the order and the amount asked about.
func (c config) trusted(body []byte, txn TxnType, f Fields) (Fields, error) {
	r, err := ParseResponse(body, c.verifier)
	if err != nil {
		return nil, fmt.Errorf("%w: txnType %s: %w", channels.ErrNoAnswer, txn, err)
	}
	switch {
	case r[FieldMerID] != c.merID:
		return nil, fmt.Errorf("%w: txnType %s answered for merchant %q", channels.ErrNoAnswer, txn, r[FieldMerID])
	case r[FieldOrderID] != f[FieldOrderID]:
		return nil, fmt.Errorf("%w: txnType %s answered for order %q, not %s", channels.ErrNoAnswer, txn, r[FieldOrderID], f[FieldOrderID])
	case f[FieldTxnAmt] != "" && r[FieldTxnAmt] != "" && r[FieldTxnAmt] != f[FieldTxnAmt]:
		return nil, fmt.Errorf("%w: txnType %s answered %s fen for %s", channels.ErrNoAnswer, txn, r[FieldTxnAmt], f[FieldTxnAmt])
	}
	return r, nil
}
