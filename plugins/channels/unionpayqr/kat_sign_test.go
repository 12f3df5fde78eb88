package unionpayqr_test

import (
	"crypto/rsa"
	"crypto/x509"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/pkcs12"

	"github.com/posrt/posrt/plugins/channels/unionpayqr"
)

// Signing known answers: UnionPay's published test signing key (the
// acp_test_sign.pfx every ACP demo ships, password 000000, certId
// 68759663125), taken unchanged from lokielse/omnipay-unionpay commit
// c79aa1571ec24cb155614e01117e26a495470d8c,
// tests/Assets/dist/wtz/acp_test_sign.pfx, and two 5.1.0 requests
// published with the signature that key gave them. PKCS #1 v1.5 being
// deterministic, SignDigest must reproduce each signature exactly.
//
// The two requests come from public GitHub files found through a
// code-search index whose hits carry no repository name (index file ids
// 43399764536 and 17235532186); their repositories are not identified:
//
//   - request-5.1.0-txnType72.txt: a Node.js scratch file holding a
//     sorted 5.1.0 string to sign (txnType 72, orderId 20170929165156447)
//     and, in a comment, its SHA-256 hex (as ASCII bytes) and signature.
//   - request-5.1.0-txnType79.form: a Java HtmlUnit test posting a signed
//     5.1.0 frontTransReq (txnType 79, orderId
//     54289520190128185454100000335), form encoded; the query part of its
//     URL is kept as it stands.

func katSigningKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	// ToPEM, not Decode: the file carries more than one certificate bag.
	blocks, err := pkcs12.ToPEM(katFile(t, "omnipay-unionpay_acp_test_sign.pfx"), "000000")
	if err != nil {
		t.Fatalf("reading acp_test_sign.pfx: %v", err)
	}
	var rk *rsa.PrivateKey
	var certs []*x509.Certificate
	for _, b := range blocks {
		switch b.Type {
		case "PRIVATE KEY":
			if rk, err = x509.ParsePKCS1PrivateKey(b.Bytes); err != nil {
				t.Fatalf("the pfx's key: %v", err)
			}
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			certs = append(certs, c)
		}
	}
	if rk == nil {
		t.Fatal("acp_test_sign.pfx holds no private key")
	}
	var ids []string
	for _, c := range certs {
		if pk, ok := c.PublicKey.(*rsa.PublicKey); ok && pk.Equal(&rk.PublicKey) {
			ids = append(ids, unionpayqr.CertID(c))
		}
	}
	if len(ids) != 1 || ids[0] != "68759663125" {
		t.Fatalf("acp_test_sign.pfx: its key's certificates have certIds %v, want one, 68759663125", ids)
	}
	return rk
}

// katFields splits a published unencoded string to sign into Fields.
func katFields(t *testing.T, s string) unionpayqr.Fields {
	t.Helper()
	f := unionpayqr.Fields{}
	for _, kv := range strings.Split(s, "&") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("pair %q", kv)
		}
		f[k] = v
	}
	return f
}

func TestKATSignDigestTxnType72(t *testing.T) {
	key := katSigningKey(t)
	s := strings.TrimSpace(string(katFile(t, "request-5.1.0-txnType72.txt")))
	const (
		wantDigest = "46dc94cb6a295c13e3c5e3b97e27102a913c0f93c0e668a0a16e5ec41ee94492"
		wantSig    = "YMfudjRl/sK+RzoSWbZcqZ7NnEd2Twj9x2mFe9IV2Isv7PthKIETU3Vorj2vjdIsvi+cjNMLLWy8sWgHAF2fhLBKXZhWUJQbJJW9eZBo0/qaMbPVPgrOrx2hIHrb2Ef/PQwFTbxg9XdVX74PT1mHYbD8YLsgAtSrDtykjbzMfJe4PzjoWgWdytfu3sCitYcbzCIw320UqXmP50TL7BfiSBRK+B2rjX3kAMfx9uT7B2HRwumaNqv9UNKyEHmZmLdwMOYhb35mexbOMujYPop4MxLHP6IPvATfPNmXjPwv+kkkwiFEqvrXqLtstT9DxycwHnDKAr2ZQbP7XmtBKGY28g=="
	)
	f := katFields(t, s)
	// The published string is already ACP's: re-sorting it changes nothing.
	if got := f.StringToSign(); got != s {
		t.Fatalf("StringToSign =\n%s\nwant the published\n%s", got, s)
	}
	if got := unionpayqr.Digest(s); got != wantDigest {
		t.Fatalf("Digest = %s, want %s", got, wantDigest)
	}
	got, err := unionpayqr.SignDigest(unionpayqr.Digest(s), key)
	if err != nil {
		t.Fatal(err)
	}
	if got != wantSig {
		t.Fatalf("SignDigest =\n%s\nwant\n%s", got, wantSig)
	}
	if err := f.Sign(key); err != nil {
		t.Fatal(err)
	}
	if f[unionpayqr.FieldSignature] != wantSig {
		t.Fatalf("Fields.Sign = %s", f[unionpayqr.FieldSignature])
	}
	if !f.Verify(&key.PublicKey) {
		t.Fatal("the published signature does not verify under the test key")
	}
}

func TestKATSignTxnType79(t *testing.T) {
	key := katSigningKey(t)
	q, err := url.ParseQuery(strings.TrimSpace(string(katFile(t, "request-5.1.0-txnType79.form"))))
	if err != nil {
		t.Fatal(err)
	}
	f := unionpayqr.Fields{}
	for k, v := range q {
		if k == "" {
			continue // the URL's trailing &
		}
		f[k] = v[0]
	}
	want := f[unionpayqr.FieldSignature]
	if f[unionpayqr.FieldVersion] != unionpayqr.Version510 || f[unionpayqr.FieldSignMethod] != unionpayqr.SignMethodRSA || f[unionpayqr.FieldCertID] != "68759663125" || want == "" {
		t.Fatalf("the vector is not a 5.1.0 signMethod 01 request of the test key: %v", f)
	}
	delete(f, unionpayqr.FieldSignature)
	if err := f.Sign(key); err != nil {
		t.Fatal(err)
	}
	if f[unionpayqr.FieldSignature] != want {
		t.Fatalf("Fields.Sign =\n%s\nwant the published\n%s\nover\n%s", f[unionpayqr.FieldSignature], want, f.StringToSign())
	}
	// tokenPayData's braces hold an & of their own; the string keeps it raw.
	if !strings.Contains(f.StringToSign(), "&tokenPayData={trId=62000000001&tokenType=01}&") {
		t.Fatalf("StringToSign lost tokenPayData's braces:\n%s", f.StringToSign())
	}
}
