package unionpayqr_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/unionpayqr"
)

// The SHA-256-hex step of signMethod 01, on the published example of
// FIPS 180-2 (appendix B.1: "abc"), and its lower-case hex as ACP signs it.
func TestDigestOfThePublishedExample(t *testing.T) {
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := unionpayqr.Digest("abc"); got != want {
		t.Fatalf("Digest(abc) = %s, want %s", got, want)
	}
	if got := unionpayqr.Digest(""); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatalf("Digest() = %s", got)
	}
}

// What the plugin sends for a pay is the documented form, written out
// here literally: every field but signature, sorted, name=value with &,
// unencoded; the signature is SHA256withRSA over the lower-case SHA-256
// hex of that string, base64, verified here without the package's code.
func TestPluginSignsTheDocumentedString(t *testing.T) {
	p := certs(t)
	var form url.Values
	var path string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			t.Errorf("request %s %s", r.Method, r.Header.Get("Content-Type"))
		}
		_ = r.ParseForm()
		form, path = r.PostForm, r.URL.Path
		w.WriteHeader(http.StatusOK)
	}))
	defer gw.Close()
	sim, _ := startSim(t, nil)
	cfg := pluginConfig(t, sim, map[string]string{"gateway": gw.URL})
	w := unionpayqr.New()
	if err := w.Configure(context.Background(), channels.WalletAPIVersion1, cfg); err != nil {
		t.Fatal(err)
	}
	k := channels.Key{TID: "10000001", MID: "898310048990001", Batch: "000001", Trace: "000042"}
	_, err := w.Pay(context.Background(), channels.PayRequest{Key: k, OrderNo: "P10000001000001000042", Amount: 1999, AuthCode: "6220123456789012345", Subject: "posrt 测试"})
	if !errors.Is(err, channels.ErrNoAnswer) {
		t.Fatalf("Pay against a gateway answering nothing = %v, want ErrNoAnswer", err)
	}
	if path != unionpayqr.PathBackTrans {
		t.Errorf("posted to %s, want %s", path, unionpayqr.PathBackTrans)
	}
	ts := form.Get("txnTime")
	if _, err := time.Parse(unionpayqr.TimeLayout, ts); err != nil {
		t.Fatalf("txnTime %q: %v", ts, err)
	}
	certID := p.merchant.SerialNumber.String()
	want := "accessType=0&bizType=000000&certId=" + certID + "&channelType=08&currencyCode=156&encoding=UTF-8&merId=777290058110097" +
		"&orderId=P10000001000001000042&qrNo=6220123456789012345&signMethod=01&termId=10000001&txnAmt=1999&txnSubType=06&txnTime=" + ts +
		"&txnType=01&version=5.1.0"
	f := unionpayqr.Fields{}
	for k, v := range form {
		f[k] = v[0]
	}
	if got := f.StringToSign(); got != want {
		t.Fatalf("the form signs\n%s\nwant\n%s", got, want)
	}
	sig, err := base64.StdEncoding.DecodeString(form.Get("signature"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(want))
	hexSum := []byte(strings.ToLower(strings.TrimSpace(hexOf(sum[:]))))
	outer := sha256.Sum256(hexSum)
	if err := rsa.VerifyPKCS1v15(&p.merchantKey.PublicKey, crypto.SHA256, outer[:], sig); err != nil {
		t.Fatalf("the signature does not verify over the hex digest of the string: %v", err)
	}
	// PKCS #1 v1.5 is deterministic: the same key and digest give this signature.
	if again, _ := unionpayqr.SignDigest(unionpayqr.Digest(want), p.merchantKey); again != form.Get("signature") {
		t.Errorf("SignDigest = %s, the plugin sent %s", again, form.Get("signature"))
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// An answer is trusted only with a signature over every field under a
// certificate of the configured root: a field changed, added or
// duplicated, or another signer, no longer verifies.
func TestParseResponseVerifies(t *testing.T) {
	p := certs(t)
	v := unionpayqr.NewVerifier([]*x509.Certificate{p.root}, nil, time.Now)
	a := unionpayqr.Fields{"version": "5.1.0", "signMethod": "01", "respCode": "00", "respMsg": "成功", "merId": testMerID, "orderId": "P1000000100000100001", "txnAmt": "100",
		"signPubKeyCert": string(unionpayqr.EncodeCertificate(p.signing)), "certId": p.signing.SerialNumber.String()}
	if err := a.Sign(p.signerKey); err != nil {
		t.Fatal(err)
	}
	body := a.Encode()
	got, err := unionpayqr.ParseResponse(body, v)
	if err != nil || got["txnAmt"] != "100" || got["respMsg"] != "成功" {
		t.Fatalf("ParseResponse = %v, %v", got, err)
	}
	for name, b := range map[string]string{
		"amount changed": strings.Replace(string(body), "txnAmt=100", "txnAmt=900", 1),
		"field added":    string(body) + "&queryId=1",
		"field twice":    string(body) + "&txnAmt=100",
		"no signature":   strings.Replace(string(body), "signature=", "signatur=", 1),
	} {
		if _, err := unionpayqr.ParseResponse([]byte(b), v); err == nil {
			t.Errorf("%s: ParseResponse accepted it", name)
		}
	}
	// Signed by the merchant's key under the gateway's certificate.
	forged := unionpayqr.Fields{}
	for k, val := range a {
		forged[k] = val
	}
	if err := forged.Sign(p.merchantKey); err != nil {
		t.Fatal(err)
	}
	if _, err := unionpayqr.ParseResponse(forged.Encode(), v); !errors.Is(err, unionpayqr.ErrBadSign) {
		t.Errorf("an answer signed by another key = %v, want ErrBadSign", err)
	}
	// A self-signed signer: the certificate does not chain to the root.
	self := unionpayqr.Fields{}
	for k, val := range a {
		self[k] = val
	}
	self["signPubKeyCert"] = string(unionpayqr.EncodeCertificate(p.merchant))
	if err := self.Sign(p.merchantKey); err != nil {
		t.Fatal(err)
	}
	if _, err := unionpayqr.ParseResponse(self.Encode(), v); !errors.Is(err, unionpayqr.ErrBadSign) {
		t.Errorf("an answer under a certificate of no configured root = %v, want ErrBadSign", err)
	}
	// Expired: the same answer checked 11 years on.
	late := unionpayqr.NewVerifier([]*x509.Certificate{p.root}, nil, func() time.Time { return time.Now().AddDate(11, 0, 0) })
	if _, err := unionpayqr.ParseResponse(body, late); !errors.Is(err, unionpayqr.ErrBadSign) {
		t.Errorf("an answer under an expired certificate = %v, want ErrBadSign", err)
	}
}

// Reserved fields hold {...} with & inside: Decode keeps them whole.
func TestDecodeBraces(t *testing.T) {
	f, err := unionpayqr.Decode([]byte("a=1&reserved={x=1&y=2}&b=="))
	if err != nil || f["a"] != "1" || f["reserved"] != "{x=1&y=2}" || f["b"] != "=" || len(f) != 3 {
		t.Fatalf("Decode = %v, %v", f, err)
	}
	for _, bad := range []string{"", "=1", "a=1&", "a=1&a=2", "a b=1", "a"} {
		if f, err := unionpayqr.Decode([]byte(bad)); err == nil {
			t.Errorf("Decode(%q) = %v, want an error", bad, f)
		}
	}
}

// A gateway answering, signed right, for another merchant, order or
// amount is not trusted: ErrNoAnswer, so the runtime queries, then
// cancels. The same answer with the request's fields is a success (the
// test's fake gateway is right otherwise).
func TestAnswerForAnotherOrderIsNoAnswer(t *testing.T) {
	p := certs(t)
	for _, tc := range []struct {
		name, field, value string
		ok                 bool
	}{
		{name: "the request's", ok: true},
		{name: "another amount", field: "txnAmt", value: "1"},
		{name: "another order", field: "orderId", value: "P10000001000001999999"},
		{name: "another merchant", field: "merId", value: "898310048990001"},
		{name: "no queryId", field: "queryId", value: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				a := unionpayqr.Fields{"version": "5.1.0", "encoding": "UTF-8", "signMethod": "01", "respCode": "00", "respMsg": "成功", "txnType": "01",
					"merId": r.PostForm.Get("merId"), "orderId": r.PostForm.Get("orderId"), "txnAmt": r.PostForm.Get("txnAmt"), "txnTime": r.PostForm.Get("txnTime"),
					"queryId": "202612011030000000001", "certId": p.signing.SerialNumber.String(), "signPubKeyCert": string(unionpayqr.EncodeCertificate(p.signing))}
				if tc.field != "" {
					a[tc.field] = tc.value
				}
				if err := a.Sign(p.signerKey); err != nil {
					t.Error(err)
				}
				_, _ = w.Write(a.Encode())
			}))
			defer gw.Close()
			sim, _ := startSim(t, nil)
			w := unionpayqr.New()
			if err := w.Configure(context.Background(), channels.WalletAPIVersion1, pluginConfig(t, sim, map[string]string{"gateway": gw.URL})); err != nil {
				t.Fatal(err)
			}
			tm := &terminal{}
			tr, err := w.Pay(context.Background(), tm.pay(1000))
			if tc.ok {
				if err != nil || tr.State != channels.TradeSuccess || tr.Amount != 1000 {
					t.Fatalf("Pay = %+v, %v; want success", tr, err)
				}
				return
			}
			if !errors.Is(err, channels.ErrNoAnswer) {
				t.Fatalf("Pay answered with %s = %+v, %v; want ErrNoAnswer", tc.name, tr, err)
			}
		})
	}
}
