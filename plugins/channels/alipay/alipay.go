package alipay

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
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
	"github.com/posrt/posrt/plugins/channels/internal/reconcile"
)

// Name is the plugin's name, as posrt serves it (posrt plugin serve alipay).
const Name = "alipay"

// Version is the plugin's version.
const Version = "0.1.0"

type config struct {
	gateway    *url.URL
	appID      string
	key        *rsa.PrivateKey
	alipayKey  *rsa.PublicKey
	timeout    time.Duration
	probeEvery time.Duration // how long a Health query of the gateway stands
	client     *http.Client
	observe    *probe.Cache // where each call's outcome is kept as the last probe
	now        func() time.Time
	configured bool
}

// Alipay is the Alipay bar-code (付款码) channel: it implements
// channels.Wallet over the openapi gateway its configuration names, each
// request signed RSA2 with the merchant's private key and each answer
// verified against Alipay's public key. It logs nothing; its errors show
// payment codes masked and never a key.
type Alipay struct {
	mu    sync.Mutex
	cfg   config
	sent  reconcile.Orders
	probe probe.Cache // the last Health query of the gateway
}

var _ channels.Wallet = (*Alipay)(nil)

// New returns an unconfigured plugin. It does no I/O.
func New() *Alipay { return &Alipay{} }

func info() base.Info {
	return base.Info{Kind: base.KindWallet, Name: Name, Version: Version, APIVersions: channels.WalletAPIVersions,
		Capabilities: []string{channels.CapabilityReconcile}}
}

// Info implements base.Base.
func (a *Alipay) Info(context.Context) (base.Info, error) { return info(), nil }

// Configure implements base.Base; see the package README for the keys. A
// rejected configuration leaves the plugin as it was.
func (a *Alipay) Configure(_ context.Context, apiVersion string, m map[string]string) error {
	if err := base.CheckAPIVersion(info(), apiVersion); err != nil {
		return err
	}
	c := config{timeout: 30 * time.Second, now: time.Now, probeEvery: probe.DefaultEvery, observe: &a.probe}
	var keyFile, pubFile string
	keys := []string{"gateway", "app_id", "private_key_file", "alipay_public_key_file", "timeout", "probe_every"}
	err := base.EachConfigKey(m, Name, keys, func(k base.ConfigKey) error {
		switch k.Name {
		case "gateway":
			u, err := url.Parse(k.Value)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return k.Bad("an http or https URL such as https://openapi.alipay.com/gateway.do")
			}
			c.gateway = u
		case "app_id":
			c.appID = k.Value
		case "private_key_file":
			keyFile = k.Value
		case "alipay_public_key_file":
			pubFile = k.Value
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
	case c.appID == "":
		return fmt.Errorf("config key app_id: required by %s", Name)
	case keyFile == "" || pubFile == "":
		return fmt.Errorf("config keys private_key_file and alipay_public_key_file: required by %s", Name)
	}
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return fmt.Errorf("config key private_key_file: reading the merchant key: %w", err)
	}
	if c.key, err = ParsePrivateKey(b); err != nil {
		return fmt.Errorf("config key private_key_file: %w", err)
	}
	if b, err = os.ReadFile(pubFile); err != nil {
		return fmt.Errorf("config key alipay_public_key_file: reading Alipay's key: %w", err)
	}
	if c.alipayKey, err = ParsePublicKey(b); err != nil {
		return fmt.Errorf("config key alipay_public_key_file: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	tr.MaxIdleConnsPerHost = 4
	c.client = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	c.configured = true
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cfg.client != nil {
		a.cfg.client.CloseIdleConnections()
	}
	a.cfg = c
	a.probe.Reset(c.probeEvery)
	return nil
}

func (a *Alipay) config() (config, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.cfg.configured {
		return config{}, fmt.Errorf("%w: %s is not configured", channels.ErrNotSent, Name)
	}
	return a.cfg, nil
}

// Health implements base.Base: a trade.query of an order number no
// terminal uses, which a working gateway answers ACQ.TRADE_NOT_EXIST,
// signed. Its answer stands for probe_every (1m): the gateway is not asked
// at each of posrt's liveness checks.
func (a *Alipay) Health(ctx context.Context) (base.Health, error) {
	return a.probe.Health(ctx, a.probeGateway), nil
}

// Watch implements base.Watcher: the gateway's state as the last probe or
// call found it, and an error event for every call that could not reach
// it or got an answer that cannot be trusted.
func (a *Alipay) Watch(ctx context.Context, send func(base.Event) error) error {
	return a.probe.Watch(ctx, send, a.probeGateway)
}

// probeGateway asks the gateway about an order number no terminal uses.
func (a *Alipay) probeGateway(ctx context.Context) base.Health {
	cfg, err := a.config()
	if err != nil {
		return base.Health{State: base.StateOffline, Detail: "not configured"}
	}
	r, err := cfg.call(ctx, MethodQuery, map[string]any{"out_trade_no": "POSRTHEALTH"})
	switch {
	case err == nil && (r.Code == CodeSuccess || r.Code == CodeBusinessFailed):
		return base.Health{State: base.StateIdle}
	case err == nil:
		return base.Health{State: base.StateError, Detail: fmt.Sprintf("the gateway answered %s %s (%s)", r.Code, r.SubCode, r.SubMsg)}
	case errors.Is(err, ErrBadSign):
		return base.Health{State: base.StateError, Detail: "the gateway's answer does not verify under Alipay's configured public key"}
	}
	return base.Health{State: base.StateOffline, Detail: err.Error()}
}

// RequestParams are the form parameters of a request of method m with
// biz (marshalled as biz_content) at now, signed with key.
func RequestParams(appID string, m Method, biz any, now time.Time, key *rsa.PrivateKey) (Params, error) {
	content, err := json.Marshal(biz)
	if err != nil {
		return nil, fmt.Errorf("encoding biz_content: %w", err)
	}
	p := Params{
		"app_id": appID, "method": string(m), "format": "JSON", "charset": "utf-8", "sign_type": "RSA2",
		"timestamp": now.In(HostZone).Format(TimeLayout), "version": "1.0", "biz_content": string(content),
	}
	if err := p.Sign(key); err != nil {
		return nil, err
	}
	return p, nil
}

// call sends one request of method m with biz and returns the answer
// object once it is trusted: signed by Alipay's key. An error is
// channels.ErrNotSent when no connection to the gateway was made, else
// channels.ErrNoAnswer (a transport failure after the connection, a
// status other than 200, an unparsable, unsigned or forged answer, one
// about another order).
func (c config) call(ctx context.Context, m Method, biz map[string]any) (Response, error) {
	p, err := RequestParams(c.appID, m, biz, c.now(), c.key)
	if err != nil {
		return Response{}, fmt.Errorf("%w: %v", channels.ErrNotSent, err)
	}
	form := url.Values{}
	for k, v := range p {
		form.Set(k, v)
	}
	body, err := gatewayclient.Post(ctx, c.client, gatewayclient.Request{
		URL: c.gateway.String(), ContentType: "application/x-www-form-urlencoded;charset=utf-8", Body: []byte(form.Encode()),
		What: string(m), Timeout: c.timeout, MaxAnswer: MaxMessage,
	}, c.observe)
	if err != nil {
		return Response{}, err
	}
	r, err := c.trusted(body, m, biz)
	if err != nil {
		c.observe.Observe(err)
	}
	return r, err
}

// trusted parses the body of the gateway's answer to m and returns it once
// its signature verifies under Alipay's key and it is about the order
// asked about.
func (c config) trusted(body []byte, m Method, biz map[string]any) (Response, error) {
	r, err := ParseResponse(body, m, c.alipayKey)
	if err != nil {
		return Response{}, fmt.Errorf("%w: %s: %w", channels.ErrNoAnswer, m, err)
	}
	if no, _ := biz["out_trade_no"].(string); no != "" && r.OutTradeNo != "" && r.OutTradeNo != no {
		return Response{}, fmt.Errorf("%w: %s answered for order %s, not %s", channels.ErrNoAnswer, m, r.OutTradeNo, no)
	}
	return r, nil
}
