package wechat

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/internal/gatewayclient"
	"github.com/posrt/posrt/plugins/channels/internal/probe"
	"github.com/posrt/posrt/plugins/channels/internal/reconcile"
)

// Name is the plugin's name, as posrt serves it (posrt plugin serve wechat).
const Name = "wechat"

// Version is the plugin's version.
const Version = "0.1.0"

// HostZone is the zone of WeChat Pay's times (time_end): China Standard
// Time.
var HostZone = time.FixedZone("CST", 8*3600)

type config struct {
	gateway    *url.URL
	appID      string
	mchID      string
	key        string
	signType   SignType
	timeout    time.Duration
	probeEvery time.Duration // how long a Health query of the gateway stands
	clientIP   string
	client     *http.Client
	observe    *probe.Cache // where each call's outcome is kept as the last probe
	configured bool
}

// WeChat is the WeChat Pay micropay channel: it implements channels.Wallet
// over API v2 (XML, signed with the merchant's API key) to the gateway its
// configuration names. It logs nothing; its errors show payment codes
// masked to their first and last four digits and never the key.
type WeChat struct {
	mu    sync.Mutex
	cfg   config
	sent  reconcile.Orders
	probe probe.Cache // the last Health query of the gateway
}

var _ channels.Wallet = (*WeChat)(nil)

// New returns an unconfigured plugin. It does no I/O.
func New() *WeChat { return &WeChat{} }

func info() base.Info {
	return base.Info{Kind: base.KindWallet, Name: Name, Version: Version, APIVersions: channels.WalletAPIVersions,
		Capabilities: []string{channels.CapabilityReconcile}}
}

// Info implements base.Base.
func (w *WeChat) Info(context.Context) (base.Info, error) { return info(), nil }

// Configure implements base.Base; see the package README for the keys. A
// rejected configuration leaves the plugin as it was.
func (w *WeChat) Configure(_ context.Context, apiVersion string, m map[string]string) error {
	if err := base.CheckAPIVersion(info(), apiVersion); err != nil {
		return err
	}
	c := config{signType: SignMD5, timeout: 30 * time.Second, clientIP: "127.0.0.1", probeEvery: probe.DefaultEvery, observe: &w.probe}
	var keyFile, ca, cert, certKey string
	keys := []string{"gateway", "appid", "mch_id", "key", "key_file", "sign_type", "timeout", "probe_every", "spbill_create_ip", "tls_ca", "tls_cert", "tls_key"}
	err := base.EachConfigKey(m, Name, keys, func(k base.ConfigKey) error {
		switch k.Name {
		case "gateway":
			u, err := url.Parse(k.Value)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return k.Bad("an http or https URL such as https://api.mch.weixin.qq.com")
			}
			u.Path = strings.TrimSuffix(u.Path, "/")
			c.gateway = u
		case "appid":
			c.appID = k.Value
		case "mch_id":
			c.mchID = k.Value
		case "key":
			c.key = k.Value
		case "key_file":
			keyFile = k.Value
		case "sign_type":
			st, err := ParseSignType(k.Value)
			if err != nil {
				return k.Bad("MD5 or HMAC-SHA256")
			}
			c.signType = st
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
		case "spbill_create_ip":
			c.clientIP = k.Value
		case "tls_ca":
			ca = k.Value
		case "tls_cert":
			cert = k.Value
		case "tls_key":
			certKey = k.Value
		}
		return nil
	})
	if err != nil {
		return err
	}
	switch {
	case c.gateway == nil:
		return fmt.Errorf("config key gateway: required by %s", Name)
	case c.appID == "" || c.mchID == "":
		return fmt.Errorf("config keys appid and mch_id: required by %s", Name)
	case c.key != "" && keyFile != "":
		return errors.New("config keys key and key_file: give one, not both")
	case keyFile != "":
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return fmt.Errorf("config key key_file: reading the API key: %w", err)
		}
		c.key = strings.TrimSpace(string(b))
	}
	if c.key == "" {
		return fmt.Errorf("config key key or key_file: the merchant's API key is required by %s", Name)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return fmt.Errorf("config key tls_ca: reading %s: %w", ca, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("config key tls_ca: %s holds no PEM certificate", ca)
		}
		tc.RootCAs = pool
	}
	if (cert == "") != (certKey == "") {
		return errors.New("config keys tls_cert and tls_key: give both (the merchant certificate reverse and refund need) or neither")
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, certKey)
		if err != nil {
			return fmt.Errorf("config keys tls_cert and tls_key: loading the merchant certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.MaxIdleConnsPerHost = 4
	c.client = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	c.configured = true
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cfg.client != nil {
		w.cfg.client.CloseIdleConnections()
	}
	w.cfg = c
	w.probe.Reset(c.probeEvery)
	return nil
}

func (w *WeChat) config() (config, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.cfg.configured {
		return config{}, fmt.Errorf("%w: %s is not configured", channels.ErrNotSent, Name)
	}
	return w.cfg, nil
}

// Health implements base.Base: an orderquery of an order number no
// terminal uses, which a working gateway answers ORDERNOTEXIST, signed. Its
// answer stands for probe_every (1m): the gateway is not asked at each of
// posrt's liveness checks.
func (w *WeChat) Health(ctx context.Context) (base.Health, error) {
	return w.probe.Health(ctx, w.probeGateway), nil
}

// Watch implements base.Watcher: the gateway's state as the last probe or
// call found it, and an error event for every call that could not reach
// it or got an answer that cannot be trusted.
func (w *WeChat) Watch(ctx context.Context, send func(base.Event) error) error {
	return w.probe.Watch(ctx, send, w.probeGateway)
}

// probeGateway asks the gateway about an order number no terminal uses.
func (w *WeChat) probeGateway(ctx context.Context) base.Health {
	cfg, err := w.config()
	if err != nil {
		return base.Health{State: base.StateOffline, Detail: "not configured"}
	}
	_, err = cfg.call(ctx, PathOrderQuery, Fields{"out_trade_no": "POSRTHEALTH"})
	var ge *GatewayError
	switch {
	case err == nil:
		return base.Health{State: base.StateIdle}
	case errors.As(err, &ge):
		return base.Health{State: base.StateError, Detail: ge.Error()}
	case errors.Is(err, ErrBadSign):
		return base.Health{State: base.StateError, Detail: "the gateway's answer does not verify under the configured key"}
	}
	return base.Health{State: base.StateOffline, Detail: err.Error()}
}

// call sends one request to path with fields (appid, mch_id, nonce_str,
// sign_type and sign added) and returns the answer once it is trusted:
// return_code SUCCESS, signed under the key, echoing the merchant. An
// error is channels.ErrNotSent when no connection to the gateway was
// made, else channels.ErrNoAnswer (transport failure after the
// connection, a status other than 200, an unparsable or unsigned answer,
// one that does not verify or names another merchant).
func (c config) call(ctx context.Context, path string, fields Fields) (Fields, error) {
	req := Fields{"appid": c.appID, "mch_id": c.mchID, "nonce_str": nonce(), "sign_type": string(c.signType)}
	for k, v := range fields {
		req[k] = v
	}
	req["sign"] = Sign(req, c.key, c.signType)
	body, err := gatewayclient.Post(ctx, c.client, gatewayclient.Request{
		URL: c.gateway.String() + path, ContentType: "text/xml; charset=utf-8", Body: Encode(req),
		What: path, Timeout: c.timeout, MaxAnswer: MaxMessage,
	}, c.observe)
	if err != nil {
		return nil, err
	}
	ans, err := c.trusted(body, path, fields)
	if err != nil {
		c.observe.Observe(err)
	}
	return ans, err
}

// trusted parses the body of the gateway's answer to path and returns it
// once it verifies and names this merchant and the order asked about.
func (c config) trusted(body []byte, path string, fields Fields) (Fields, error) {
	ans, err := ParseResponse(body, c.key, c.signType)
	if err != nil {
		// An unsigned FAIL, a garbled or a forged answer: none can be
		// trusted to say that nothing was booked.
		return nil, fmt.Errorf("%w: %s: %w", channels.ErrNoAnswer, path, err)
	}
	if ans["appid"] != c.appID || ans["mch_id"] != c.mchID {
		return nil, fmt.Errorf("%w: %s answered for merchant %s/%s", channels.ErrNoAnswer, path, ans["appid"], ans["mch_id"])
	}
	if no := fields["out_trade_no"]; no != "" && ans["out_trade_no"] != "" && ans["out_trade_no"] != no {
		return nil, fmt.Errorf("%w: %s answered for order %s, not %s", channels.ErrNoAnswer, path, ans["out_trade_no"], no)
	}
	return ans, nil
}

const nonceChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// nonce is a 32-character random nonce_str.
func nonce() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = nonceChars[int(b[i])%len(nonceChars)]
	}
	return string(b)
}
