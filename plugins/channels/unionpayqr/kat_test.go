package unionpayqr_test

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/channels/unionpayqr"
)

// Known-answer vectors for signMethod 01 (ACP 5.1.0) taken from published
// sources. Each names its source; the files are copied unchanged to
// testdata/kat.
//
//   - lokielse/omnipay-unionpay, commit
//     c79aa1571ec24cb155614e01117e26a495470d8c:
//     tests/Assets/dist/data/WtzCompleteFrontOpen.txt (a 5.1.0 front
//     notification of UnionPay's test environment, 2017-10-30, form
//     encoded, carrying signPubKeyCert and signature),
//     tests/Assets/dist/wtz/acp_test_root.cer and acp_test_middle.cer (the
//     test environment's CFCA chain).
//
// signMethod 01 is PKCS #1 v1.5 over the hex SHA-256 of the string to
// sign, hence deterministic: a published signature that verifies pins the
// string rule, the hex digest step and the padding byte for byte.

func katFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "kat", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// katFrontOpen is the omnipay-unionpay notification, form-decoded as the
// merchant's web server receives it, and the certificate it carries.
func katFrontOpen(t *testing.T) (unionpayqr.Fields, *x509.Certificate) {
	t.Helper()
	q, err := url.ParseQuery(strings.TrimSpace(string(katFile(t, "omnipay-unionpay_WtzCompleteFrontOpen.txt"))))
	if err != nil {
		t.Fatal(err)
	}
	f := unionpayqr.Fields{}
	for k, v := range q {
		if len(v) != 1 {
			t.Fatalf("%s given %d times", k, len(v))
		}
		f[k] = v[0]
	}
	if f[unionpayqr.FieldVersion] != unionpayqr.Version510 || f[unionpayqr.FieldSignMethod] != unionpayqr.SignMethodRSA {
		t.Fatalf("the vector is version %q signMethod %q", f[unionpayqr.FieldVersion], f[unionpayqr.FieldSignMethod])
	}
	cs, err := unionpayqr.ParseCertificates([]byte(f[unionpayqr.FieldSignPubKeyCert]))
	if err != nil || len(cs) != 1 {
		t.Fatalf("signPubKeyCert: %v (%d certificates)", err, len(cs))
	}
	return f, cs[0]
}

func TestKATVerifyDigestPublishedNotification(t *testing.T) {
	f, c := katFrontOpen(t)
	key := c.PublicKey.(*rsa.PublicKey)
	if got := unionpayqr.CertID(c); got != "68759585097" {
		t.Fatalf("CertID = %s, want 68759585097 (the test environment's signing certificate)", got)
	}
	// The three steps spelled out: string to sign, its hex SHA-256, the
	// SHA256withRSA signature of that hex string.
	if !unionpayqr.VerifyDigest(unionpayqr.Digest(f.StringToSign()), f[unionpayqr.FieldSignature], key) {
		t.Fatalf("the published notification does not verify over\n%s", f.StringToSign())
	}
	if !f.Verify(key) {
		t.Fatal("Fields.Verify disagrees with VerifyDigest")
	}
	// The raw string signed instead of its hex digest (the step 5.1.0
	// adds): must not verify.
	if unionpayqr.VerifyDigest(f.StringToSign(), f[unionpayqr.FieldSignature], key) {
		t.Fatal("the signature verifies over the undigested string")
	}
	// Any field changed: must not verify.
	for _, k := range []string{unionpayqr.FieldRespCode, unionpayqr.FieldOrderID, "tokenPayData"} {
		g := unionpayqr.Fields{}
		for n, v := range f {
			g[n] = v
		}
		g[k] += "0"
		if g.Verify(key) {
			t.Fatalf("a changed %s verifies", k)
		}
	}
	// A field added with an empty value enters ACP's string (unlike
	// Alipay's rule), so it breaks the signature.
	f["reserved"] = ""
	if f.Verify(key) {
		t.Fatal("an added empty field left the string to sign unchanged")
	}
}

// The same notification as the back-end answer body ParseResponse reads
// (Fields.Encode: unencoded, sorted; tokenPayData's braces keep its &),
// with the signing certificate itself trusted: Decode, the string rule and
// the signature check end to end, at the notification's time.
func TestKATParseResponsePublishedNotification(t *testing.T) {
	f, c := katFrontOpen(t)
	at := time.Date(2017, 10, 30, 22, 36, 23, 0, time.FixedZone("CST", 8*3600))
	v := unionpayqr.NewVerifier([]*x509.Certificate{c}, nil, func() time.Time { return at })
	got, err := unionpayqr.ParseResponse(f.Encode(), v)
	if err != nil {
		t.Fatalf("ParseResponse of the published notification: %v", err)
	}
	if got[unionpayqr.FieldRespCode] != "00" || got["tokenPayData"] != f["tokenPayData"] || got[unionpayqr.FieldSignPubKeyCert] != f[unionpayqr.FieldSignPubKeyCert] {
		t.Fatalf("ParseResponse = %v", got)
	}
	forged := unionpayqr.Fields{}
	for n, s := range f {
		forged[n] = s
	}
	forged[unionpayqr.FieldOrderID] = "20171030223624"
	if _, err := unionpayqr.ParseResponse(forged.Encode(), v); !errors.Is(err, unionpayqr.ErrBadSign) {
		t.Fatalf("ParseResponse of a changed orderId: %v, want ErrBadSign", err)
	}
	// After the certificate's NotAfter (2017-12-04) it no longer vouches.
	late := unionpayqr.NewVerifier([]*x509.Certificate{c}, nil, func() time.Time { return c.NotAfter.Add(time.Hour) })
	if _, err := unionpayqr.ParseResponse(f.Encode(), late); !errors.Is(err, unionpayqr.ErrBadSign) {
		t.Fatalf("ParseResponse after the certificate expired: %v, want ErrBadSign", err)
	}
}

// The test environment's published CFCA chain (CFCA TEST CS CA, CFCA TEST
// OCA1) is signed SHA1-RSA, which crypto/x509 refuses; a Verifier built on
// it rejects even this genuine notification. Production UnionPay chains
// must be SHA-256 for ParseResponse to accept them.
func TestKATTestEnvironmentChainIsSHA1(t *testing.T) {
	f, c := katFrontOpen(t)
	roots, err := unionpayqr.ParseCertificates(katFile(t, "omnipay-unionpay_acp_test_root.cer"))
	if err != nil {
		t.Fatal(err)
	}
	mids, err := unionpayqr.ParseCertificates(katFile(t, "omnipay-unionpay_acp_test_middle.cer"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer.CommonName != mids[0].Subject.CommonName || mids[0].Issuer.CommonName != roots[0].Subject.CommonName {
		t.Fatalf("chain %q <- %q <- %q does not link", c.Issuer, mids[0].Subject, roots[0].Subject)
	}
	if mids[0].SignatureAlgorithm != x509.SHA1WithRSA || c.SignatureAlgorithm != x509.SHA1WithRSA {
		t.Fatalf("the chain is %v/%v, not SHA1-RSA: this test's premise changed", mids[0].SignatureAlgorithm, c.SignatureAlgorithm)
	}
	at := time.Date(2017, 10, 30, 22, 36, 23, 0, time.FixedZone("CST", 8*3600))
	v := unionpayqr.NewVerifier(roots, mids, func() time.Time { return at })
	if _, err := unionpayqr.ParseResponse(f.Encode(), v); !errors.Is(err, unionpayqr.ErrBadSign) {
		t.Fatalf("ParseResponse through the SHA-1 chain: %v, want ErrBadSign", err)
	}
}
