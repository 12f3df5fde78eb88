package clients_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-pay/gopay"
	goalipay "github.com/go-pay/gopay/alipay"
	"github.com/go-pay/gopay/pkg/xhttp"

	"github.com/posrt/posrt/plugins/channels/alipay"
	alisim "github.com/posrt/posrt/plugins/channels/sim/alipay"
)

// The app of Alipay's published examples.
const (
	aliAppID = "2014072300007148"
	// aliHost is the host gopay's fixed gateway URL
	// (https://openapi.alipay.com/gateway.do?charset=utf-8) names.
	aliHost = "openapi.alipay.com"
)

// aliGateway is a simulator reachable as https://openapi.alipay.com: a
// TLS listener with a certificate for that name from a test CA, passing
// each decrypted connection to the simulator's own listener, and an HTTP
// transport that resolves openapi.alipay.com:443 (and nothing else) to
// that listener, as an /etc/hosts entry would, trusting only the test CA.
type aliGateway struct {
	sim       *alisim.Server
	merchant  *rsa.PrivateKey
	transport *http.Transport

	mu  sync.Mutex
	sni []string // the server names of the TLS handshakes made
}

func startAlipay(t *testing.T) *aliGateway {
	t.Helper()
	mk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s, err := alisim.Serve(context.Background(), alisim.Config{AppID: aliAppID, MerchantKey: &mk.PublicKey, UserPaying: []int64{2000}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	g := &aliGateway{sim: s, merchant: mk}
	cert, roots := testCA(t, aliHost)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	simAddr := strings.TrimSuffix(strings.TrimPrefix(s.Addr(), "http://"), alipay.GatewayPath)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go g.pass(c.(*tls.Conn), simAddr)
		}
	}()
	front := ln.Addr().String()
	g.transport = &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr != aliHost+":443" {
				return nil, fmt.Errorf("dialing %s: only %s resolves here", addr, aliHost)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, front)
		},
		TLSClientConfig:   &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		DisableKeepAlives: true,
	}
	t.Cleanup(g.transport.CloseIdleConnections)
	return g
}

// pass relays one decrypted connection to the simulator.
func (g *aliGateway) pass(c *tls.Conn, simAddr string) {
	defer c.Close()
	if err := c.Handshake(); err != nil {
		return
	}
	g.mu.Lock()
	g.sni = append(g.sni, c.ConnectionState().ServerName)
	g.mu.Unlock()
	b, err := net.Dial("tcp", simAddr)
	if err != nil {
		return
	}
	defer b.Close()
	done := make(chan struct{})
	go func() { _, _ = io.Copy(b, c); close(done) }()
	_, _ = io.Copy(c, b)
	<-done
}

// client is an unmodified gopay client for the app, signing with key,
// auto-verifying answers under the simulator's public key, with only its
// HTTP transport replaced.
func (g *aliGateway) client(t *testing.T, key *rsa.PrivateKey) *goalipay.Client {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := goalipay.NewClient(aliAppID, base64.StdEncoding.EncodeToString(der), true)
	if err != nil {
		t.Fatal(err)
	}
	c.AutoVerifySign(g.publicKeyPEM(t))
	c.SetHttpClient(xhttp.NewClient().SetTransport(g.transport))
	return c
}

func (g *aliGateway) publicKeyDER(t *testing.T) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(g.sim.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func (g *aliGateway) publicKeyPEM(t *testing.T) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: g.publicKeyDER(t)})
}

// verifySync checks an answer's sign with gopay's VerifySyncSign under the
// simulator's key (base64 DER, as Alipay's console shows it), and that it
// fails under a changed sign data.
func (g *aliGateway) verifySync(t *testing.T, what, signData, sign string) {
	t.Helper()
	pub := base64.StdEncoding.EncodeToString(g.publicKeyDER(t))
	if ok, err := goalipay.VerifySyncSign(pub, signData, sign); !ok || err != nil {
		t.Errorf("%s: VerifySyncSign = %v, %v (sign data %s)", what, ok, err, signData)
	}
	if ok, _ := goalipay.VerifySyncSign(pub, signData+" ", sign); ok {
		t.Errorf("%s: VerifySyncSign accepts a changed answer", what)
	}
}

// testCA returns a leaf certificate for host signed by a fresh CA, and a
// pool holding only that CA.
func testCA(t *testing.T, host string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "posrt test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}, pool
}

func tradePay(outTradeNo, yuan, code string) gopay.BodyMap {
	return make(gopay.BodyMap).Set("out_trade_no", outTradeNo).Set("scene", "bar_code").Set("auth_code", code).
		Set("subject", "Iphone6 16G").Set("total_amount", yuan)
}

// A bar-code payment, queried, partly refunded, the refund queried, then a
// second payment cancelled: every call through gopay's fixed gateway URL
// over TLS, every answer's sign verified by gopay; the books agree.
func TestAlipayLifecycle(t *testing.T) {
	ctx := context.Background()
	g := startAlipay(t)
	c := g.client(t, g.merchant)
	s := g.sim

	pay, err := c.TradePay(ctx, tradePay("GP_ALI_1", "88.88", s.IssueCode()))
	if err != nil {
		t.Fatalf("trade.pay: %v", err)
	}
	r := pay.Response
	if r.Code != "10000" || r.OutTradeNo != "GP_ALI_1" || r.TradeNo == "" || r.TotalAmount != "88.88" {
		t.Fatalf("trade.pay answered %+v", r)
	}
	g.verifySync(t, "trade.pay", pay.SignData, pay.Sign)

	q, err := c.TradeQuery(ctx, make(gopay.BodyMap).Set("out_trade_no", "GP_ALI_1"))
	if err != nil {
		t.Fatalf("trade.query: %v", err)
	}
	if q.Response.TradeStatus != "TRADE_SUCCESS" || q.Response.TradeNo != r.TradeNo || q.Response.TotalAmount != "88.88" || q.Response.SendPayDate == "" {
		t.Errorf("trade.query answered %+v", q.Response)
	}
	g.verifySync(t, "trade.query", q.SignData, q.Sign)

	rf, err := c.TradeRefund(ctx, make(gopay.BodyMap).Set("out_trade_no", "GP_ALI_1").Set("refund_amount", "8.88").Set("out_request_no", "GP_ALI_1_R1"))
	if err != nil {
		t.Fatalf("trade.refund: %v", err)
	}
	if rf.Response.FundChange != "Y" || rf.Response.RefundFee != "8.88" || rf.Response.TradeNo != r.TradeNo {
		t.Errorf("trade.refund answered %+v", rf.Response)
	}
	g.verifySync(t, "trade.refund", rf.SignData, rf.Sign)
	// The same out_request_no again is the same refund, no money moved.
	if again, err := c.TradeRefund(ctx, make(gopay.BodyMap).Set("out_trade_no", "GP_ALI_1").Set("refund_amount", "8.88").Set("out_request_no", "GP_ALI_1_R1")); err != nil || again.Response.FundChange != "N" {
		t.Errorf("trade.refund again answered %+v, %v", again, err)
	}

	rq, err := c.TradeFastPayRefundQuery(ctx, make(gopay.BodyMap).Set("out_trade_no", "GP_ALI_1").Set("out_request_no", "GP_ALI_1_R1"))
	if err != nil {
		t.Fatalf("trade.fastpay.refund.query: %v", err)
	}
	if rq.Response.RefundStatus != "REFUND_SUCCESS" || rq.Response.RefundAmount != "8.88" || rq.Response.TotalAmount != "88.88" || rq.Response.OutRequestNo != "GP_ALI_1_R1" {
		t.Errorf("trade.fastpay.refund.query answered %+v", rq.Response)
	}
	g.verifySync(t, "trade.fastpay.refund.query", rq.SignData, rq.Sign)

	if tr, ok := s.Trade("GP_ALI_1"); !ok || !tr.Paid || tr.Amount != 8888 || tr.Refunded != 888 || tr.Refunds != 1 || tr.Status != alipay.StatusTradeSuccess {
		t.Errorf("the simulator holds %+v, %v; want paid 8888 fen, 888 refunded once", tr, ok)
	}

	if _, err := c.TradePay(ctx, tradePay("GP_ALI_2", "5.55", s.IssueCode())); err != nil {
		t.Fatal(err)
	}
	cn, err := c.TradeCancel(ctx, make(gopay.BodyMap).Set("out_trade_no", "GP_ALI_2"))
	if err != nil {
		t.Fatalf("trade.cancel: %v", err)
	}
	if cn.Response.Action != "refund" || cn.Response.RetryFlag != "N" || cn.Response.OutTradeNo != "GP_ALI_2" {
		t.Errorf("trade.cancel answered %+v", cn.Response)
	}
	g.verifySync(t, "trade.cancel", cn.SignData, cn.Sign)
	if tr, _ := s.Trade("GP_ALI_2"); !tr.Cancelled || !tr.Paid || tr.Status != alipay.StatusTradeClosed {
		t.Errorf("cancelled order held as %+v", tr)
	}
	// A refunded order cannot be cancelled.
	_, err = c.TradeCancel(ctx, make(gopay.BodyMap).Set("out_trade_no", "GP_ALI_1"))
	if be, ok := goalipay.IsBizError(err); !ok || be.SubCode != "ACQ.TRADE_STATUS_ERROR" {
		t.Errorf("trade.cancel of a refunded order: %v", err)
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.sni) == 0 {
		t.Fatal("no TLS handshake reached the front listener")
	}
	for _, n := range g.sni {
		if n != aliHost {
			t.Errorf("a handshake named %q", n)
		}
	}
}

// A declined code, a payment waiting for the buyer then paid, and a code
// used twice.
func TestAlipayRefusals(t *testing.T) {
	ctx := context.Background()
	g := startAlipay(t)
	c := g.client(t, g.merchant)
	s := g.sim

	decCode := s.IssueCode()
	_, err := c.TradePay(ctx, tradePay("GP_ALI_DEC", "10.51", decCode))
	be, ok := goalipay.IsBizError(err)
	if !ok || be.Code != "40004" || be.SubCode != "ACQ.BUYER_BALANCE_NOT_ENOUGH" {
		t.Fatalf("declined trade.pay: %v", err)
	}
	// gopay verifies no sign on a refusal; the same request again (the
	// simulator answers it the same) through gopay's raw DoAliPay, checked
	// with VerifySyncSign.
	raw, err := c.DoAliPay(ctx, tradePay("GP_ALI_DEC", "10.51", decCode), "alipay.trade.pay")
	if err != nil {
		t.Fatal(err)
	}
	data, sign := splitSigned(t, raw)
	g.verifySync(t, "declined trade.pay", data, sign)
	if !strings.Contains(data, "ACQ.BUYER_BALANCE_NOT_ENOUGH") {
		t.Errorf("repeated declined trade.pay answered %s", raw)
	}
	if tr, ok := s.Trade("GP_ALI_DEC"); !ok || tr.Paid {
		t.Errorf("declined order held as %+v, %v", tr, ok)
	}

	code := s.IssueCode()
	up, err := c.TradePay(ctx, tradePay("GP_ALI_UP", "20.00", code))
	if err != nil || up.Response.Code != "10003" {
		t.Fatalf("waiting trade.pay answered %+v, %v", up, err)
	}
	g.verifySync(t, "10003 trade.pay", up.SignData, up.Sign)
	for n, want := range []string{"WAIT_BUYER_PAY", "TRADE_SUCCESS"} {
		q, err := c.TradeQuery(ctx, make(gopay.BodyMap).Set("out_trade_no", "GP_ALI_UP"))
		if err != nil || q.Response.TradeStatus != want {
			t.Fatalf("query %d of a waiting order: %+v, %v; want %s", n+1, q, err, want)
		}
		g.verifySync(t, "trade.query "+want, q.SignData, q.Sign)
	}
	if tr, _ := s.Trade("GP_ALI_UP"); !tr.Paid || tr.Amount != 2000 {
		t.Errorf("waiting order held as %+v once paid", tr)
	}

	_, err = c.TradePay(ctx, tradePay("GP_ALI_USED", "3.00", code))
	if be, ok := goalipay.IsBizError(err); !ok || be.SubCode != "ACQ.PAYMENT_AUTH_CODE_INVALID" {
		t.Errorf("trade.pay with a used code: %v", err)
	}
	if tr, _ := s.Trade("GP_ALI_USED"); tr.Paid {
		t.Errorf("an order paid with a used code: %+v", tr)
	}

	// A client signing with another key is refused: the simulator checks
	// gopay's signature.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, err = g.client(t, other).TradePay(ctx, tradePay("GP_ALI_BAD", "1.00", s.IssueCode()))
	if be, ok := goalipay.IsBizError(err); !ok || be.Code != "40002" || be.SubCode != "isv.invalid-signature" {
		t.Errorf("trade.pay signed with another key: %v", err)
	}
	if _, ok := s.Trade("GP_ALI_BAD"); ok {
		t.Error("an order was booked for a badly signed request")
	}
}

// A gopay client trusting the simulator's key refuses an answer signed by
// another: gopay's auto-verification is in force in these tests.
func TestAlipayAnswerUnderAnotherKey(t *testing.T) {
	g := startAlipay(t)
	c := g.client(t, g.merchant)
	stranger, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKIXPublicKey(&stranger.PublicKey)
	c.AutoVerifySign(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	_, err := c.TradePay(context.Background(), tradePay("GP_ALI_K", "1.00", g.sim.IssueCode()))
	if !errors.Is(err, gopay.VerifySignatureErr) {
		t.Errorf("trade.pay verified under a stranger's key: %v", err)
	}
}

// splitSigned cuts a raw answer into the text its sign covers (the
// response object, as Alipay's rule and gopay take it) and the sign.
func splitSigned(t *testing.T, raw []byte) (string, string) {
	t.Helper()
	s := string(raw)
	i, j := strings.Index(s, `_response":`), strings.LastIndex(s, `,"sign":"`)
	if i < 0 || j < i {
		t.Fatalf("answer %s has no signed response", raw)
	}
	return s[i+len(`_response":`) : j], strings.TrimSuffix(s[j+len(`,"sign":"`):], `"}`)
}

// Alipay takes trade_no in place of out_trade_no in trade.query,
// trade.cancel, trade.refund and trade.fastpay.refund.query ("二选一"), as
// gopay lets a client send: an order paid is found, refunded, its refund
// queried and a second one cancelled by Alipay's number alone.
func TestAlipayByTradeNo(t *testing.T) {
	ctx := context.Background()
	g := startAlipay(t)
	c := g.client(t, g.merchant)
	pay, err := c.TradePay(ctx, tradePay("GP_TN_1", "12.00", g.sim.IssueCode()))
	if err != nil {
		t.Fatal(err)
	}
	tn := pay.Response.TradeNo
	q, err := c.TradeQuery(ctx, make(gopay.BodyMap).Set("trade_no", tn))
	if err != nil || q.Response.OutTradeNo != "GP_TN_1" || q.Response.TradeStatus != "TRADE_SUCCESS" {
		t.Fatalf("trade.query by trade_no: %+v, %v", q, err)
	}
	rf, err := c.TradeRefund(ctx, make(gopay.BodyMap).Set("trade_no", tn).Set("refund_amount", "2.00").Set("out_request_no", "GP_TN_1_R1"))
	if err != nil || rf.Response.RefundFee != "2.00" || rf.Response.FundChange != "Y" {
		t.Fatalf("trade.refund by trade_no: %+v, %v", rf, err)
	}
	rq, err := c.TradeFastPayRefundQuery(ctx, make(gopay.BodyMap).Set("trade_no", tn).Set("out_request_no", "GP_TN_1_R1"))
	if err != nil || rq.Response.RefundAmount != "2.00" || rq.Response.RefundStatus != "REFUND_SUCCESS" {
		t.Fatalf("trade.fastpay.refund.query by trade_no: %+v, %v", rq, err)
	}
	if tr, _ := g.sim.Trade("GP_TN_1"); tr.Refunded != 200 {
		t.Errorf("order held as %+v; want 200 fen refunded", tr)
	}
	pay2, err := c.TradePay(ctx, tradePay("GP_TN_2", "7.00", g.sim.IssueCode()))
	if err != nil {
		t.Fatal(err)
	}
	cn, err := c.TradeCancel(ctx, make(gopay.BodyMap).Set("trade_no", pay2.Response.TradeNo))
	if err != nil || cn.Response.Action != "refund" {
		t.Fatalf("trade.cancel by trade_no: %+v, %v", cn, err)
	}
	if tr, _ := g.sim.Trade("GP_TN_2"); !tr.Cancelled {
		t.Errorf("order cancelled by trade_no held as %+v", tr)
	}
	_, err = c.TradeQuery(ctx, make(gopay.BodyMap).Set("trade_no", "2026010122001400000000000000"))
	if be, ok := goalipay.IsBizError(err); !ok || be.SubCode != "ACQ.TRADE_NOT_EXIST" {
		t.Errorf("trade.query of an unknown trade_no: %v", err)
	}
}

// Under the simulator's bad_sign fault gopay's auto-verification refuses
// the answer; and a client not trusting the test CA cannot reach the
// gateway at all (the TLS front is really verified).
func TestAlipayBadSignAndTLS(t *testing.T) {
	ctx := context.Background()
	g := startAlipay(t)
	c := g.client(t, g.merchant)
	if err := g.sim.InjectFault(alisim.Fault{Kind: alisim.FaultBadSign}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TradePay(ctx, tradePay("GP_ALI_BS", "1.00", g.sim.IssueCode())); !errors.Is(err, gopay.VerifySignatureErr) {
		t.Errorf("trade.pay under bad_sign: %v; want gopay's VerifySignatureErr", err)
	}
	untrusting := g.transport.Clone()
	untrusting.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	c.SetHttpClient(xhttp.NewClient().SetTransport(untrusting))
	var unknownCA x509.UnknownAuthorityError
	if _, err := c.TradeQuery(ctx, make(gopay.BodyMap).Set("out_trade_no", "GP_ALI_BS")); !errors.As(err, &unknownCA) {
		t.Errorf("trade.query without the test CA: %v; want an unknown-authority error", err)
	}
}
