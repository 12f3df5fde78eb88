package unionpayqr

import (
	"crypto/rsa"
	"errors"
	"os"
	"testing"
	"time"
)

// fuzzPKI reads testdata's root, signing certificate and key, which posrt
// generated for its tests only; the committed signed seeds are signed
// with that key.
func fuzzPKI(f *testing.F) (*Verifier, Fields) {
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	root, err := ParseCertificates(read("fuzz_root.pem"))
	if err != nil {
		f.Fatal(err)
	}
	signing, err := ParseCertificates(read("fuzz_signing.pem"))
	if err != nil {
		f.Fatal(err)
	}
	key, err := ParsePrivateKey(read("fuzz_signing_key.pem"))
	if err != nil {
		f.Fatal(err)
	}
	at := signing[0].NotBefore.Add(24 * time.Hour)
	v := NewVerifier(root, nil, func() time.Time { return at })
	a := Fields{FieldVersion: Version510, FieldSignMethod: SignMethodRSA, FieldRespCode: "00", FieldRespMsg: "成功", FieldMerID: "777290058110097",
		FieldOrderID: "P10000001000001000001", FieldTxnAmt: "1000", FieldTxnTime: "20261201103000", FieldQueryID: "202612011030000000001",
		FieldCertID: CertID(signing[0]), FieldSignPubKeyCert: string(EncodeCertificate(signing[0]))}
	if err := a.Sign(key); err != nil {
		f.Fatal(err)
	}
	return v, a
}

// FuzzParseResponse feeds arbitrary bodies to the answer parser: it never
// panics, and whatever it accepts carries a respCode and a signature that
// verifies over its string to sign under a certificate of the root.
func FuzzParseResponse(f *testing.F) {
	v, signed := fuzzPKI(f)
	f.Add(signed.Encode())
	f.Add([]byte("respCode=11&respMsg=验证签名失败&version=5.1.0&signMethod=01"))
	f.Add([]byte("a=1&reserved={x=1&y=2}&signature=AAAA"))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseResponse(body, v)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSign) {
				t.Fatalf("ParseResponse error of an unknown kind: %v", err)
			}
			return
		}
		again, err := Decode(body)
		if err != nil || len(again) != len(r) {
			t.Fatalf("accepted %q, which does not decode the same: %v", body, err)
		}
		c, err := v.signer(r[FieldSignPubKeyCert])
		if err != nil || r[FieldRespCode] == "" || !VerifyDigest(Digest(r.StringToSign()), r[FieldSignature], c.PublicKey.(*rsa.PublicKey)) {
			t.Fatalf("accepted %q as %v", body, r)
		}
	})
}
