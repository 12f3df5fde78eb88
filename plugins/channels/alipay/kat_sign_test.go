package alipay_test

import (
	"crypto/rsa"
	"crypto/x509"
	"testing"

	"golang.org/x/crypto/pkcs12"

	"github.com/posrt/posrt/plugins/channels/alipay"
)

// No published Alipay private key with a signature it made was found, so
// SignRSA2's SHA256withRSA (PKCS #1 v1.5, base64 std) is pinned with
// another published pair using the same primitive: UnionPay's test
// signing key acp_test_sign.pfx (password 000000), copied unchanged from
// lokielse/omnipay-unionpay commit c79aa1571ec24cb155614e01117e26a495470d8c,
// tests/Assets/dist/wtz/acp_test_sign.pfx, and a 5.1.0 request signed with
// it whose content is the hex SHA-256 of the request's string (see
// plugins/channels/unionpayqr/kat_sign_test.go, TestKATSignDigestTxnType72,
// for that vector's provenance). What Alipay's string rule feeds in is
// pinned by the verification vectors in kat_test.go.
func TestKATSignRSA2Primitive(t *testing.T) {
	blocks, err := pkcs12.ToPEM(katFileBytes(t, "omnipay-unionpay_acp_test_sign.pfx"), "000000")
	if err != nil {
		t.Fatalf("reading acp_test_sign.pfx: %v", err)
	}
	var key *rsa.PrivateKey
	for _, b := range blocks {
		if b.Type == "PRIVATE KEY" {
			if key, err = x509.ParsePKCS1PrivateKey(b.Bytes); err != nil {
				t.Fatal(err)
			}
		}
	}
	if key == nil {
		t.Fatal("acp_test_sign.pfx holds no private key")
	}
	const (
		content = "46dc94cb6a295c13e3c5e3b97e27102a913c0f93c0e668a0a16e5ec41ee94492"
		want    = "YMfudjRl/sK+RzoSWbZcqZ7NnEd2Twj9x2mFe9IV2Isv7PthKIETU3Vorj2vjdIsvi+cjNMLLWy8sWgHAF2fhLBKXZhWUJQbJJW9eZBo0/qaMbPVPgrOrx2hIHrb2Ef/PQwFTbxg9XdVX74PT1mHYbD8YLsgAtSrDtykjbzMfJe4PzjoWgWdytfu3sCitYcbzCIw320UqXmP50TL7BfiSBRK+B2rjX3kAMfx9uT7B2HRwumaNqv9UNKyEHmZmLdwMOYhb35mexbOMujYPop4MxLHP6IPvATfPNmXjPwv+kkkwiFEqvrXqLtstT9DxycwHnDKAr2ZQbP7XmtBKGY28g=="
	)
	got, err := alipay.SignRSA2([]byte(content), key)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("SignRSA2 =\n%s\nwant\n%s", got, want)
	}
	if !alipay.VerifyRSA2([]byte(content), want, &key.PublicKey) {
		t.Fatal("VerifyRSA2 rejects the published signature")
	}
}
