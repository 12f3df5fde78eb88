package unionpayqr

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Fields are the fields of one ACP message, name to value: a request's
// form fields, or an answer's key=value pairs.
type Fields map[string]string

// StringToSign is ACP's string to sign: every field but signature, sorted
// by name (byte order), joined as name=value with &, values neither
// encoded nor escaped.
func (f Fields) StringToSign() string {
	names := make([]string, 0, len(f))
	for k := range f {
		if k != FieldSignature {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	for i, k := range names {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(f[k])
	}
	return b.String()
}

// Digest is signMethod 01's digest of s: the lower-case hex of its
// SHA-256, which is what is signed.
func Digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// SignDigest signs the digest string d SHA256withRSA (PKCS #1 v1.5) and
// renders the signature base64 (std).
func SignDigest(d string, key *rsa.PrivateKey) (string, error) {
	sum := sha256.Sum256([]byte(d))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing SHA256withRSA: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// VerifyDigest reports whether sig (base64) is key's SHA256withRSA
// signature of the digest string d.
func VerifyDigest(d, sig string, key *rsa.PublicKey) bool {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(raw) == 0 {
		return false
	}
	sum := sha256.Sum256([]byte(d))
	return rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], raw) == nil
}

// Sign sets f's signature: SignDigest(Digest(f.StringToSign())).
func (f Fields) Sign(key *rsa.PrivateKey) error {
	s, err := SignDigest(Digest(f.StringToSign()), key)
	if err != nil {
		return err
	}
	f[FieldSignature] = s
	return nil
}

// Verify reports whether f carries key's signature of f.StringToSign().
func (f Fields) Verify(key *rsa.PublicKey) bool {
	return VerifyDigest(Digest(f.StringToSign()), f[FieldSignature], key)
}

// Encode renders f as an answer body: name=value pairs sorted by name,
// joined with &, unencoded, as the gateway writes them.
func (f Fields) Encode() []byte {
	s := f.StringToSign()
	if sig, ok := f[FieldSignature]; ok {
		if s != "" {
			s += "&"
		}
		s += FieldSignature + "=" + sig
	}
	return []byte(s)
}

// MaxMessage is the longest answer ParseResponse reads.
const MaxMessage = 64 << 10

// ErrMalformed is the error of a body that is not an ACP answer.
var ErrMalformed = errors.New("malformed UnionPay answer")

// ErrBadSign is the error of an answer whose signature or signing
// certificate does not verify.
var ErrBadSign = errors.New("answer signature did not verify")

// Decode reads an answer body: name=value pairs joined with &, a value
// taken up to the next & outside braces (ACP's reserved fields hold
// {...} with & inside), names of letters and digits given once.
func Decode(body []byte) (Fields, error) {
	if len(body) > MaxMessage {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(body))
	}
	s := strings.TrimRight(string(body), "\r\n")
	if s == "" {
		return nil, fmt.Errorf("%w: empty", ErrMalformed)
	}
	f := Fields{}
	for len(s) > 0 {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("%w: a pair without a name", ErrMalformed)
		}
		name := s[:eq]
		for _, c := range name {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return nil, fmt.Errorf("%w: field name %q", ErrMalformed, name)
			}
		}
		s = s[eq+1:]
		depth, end := 0, len(s)
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '{':
				depth++
			case '}':
				if depth > 0 {
					depth--
				}
			case '&':
				if depth == 0 {
					end = i
				}
			}
			if end != len(s) {
				break
			}
		}
		if _, dup := f[name]; dup {
			return nil, fmt.Errorf("%w: %s given twice", ErrMalformed, name)
		}
		f[name] = s[:end]
		if end == len(s) {
			break
		}
		s = s[end+1:]
		if s == "" {
			return nil, fmt.Errorf("%w: a trailing &", ErrMalformed)
		}
	}
	return f, nil
}

// Verifier checks the gateway's answers: the signing certificate an
// answer carries (signPubKeyCert) must chain to one of Roots (through
// Intermediates, if any) at the time Now gives, and its key must verify
// the answer's signature. Verified certificates are remembered by their
// PEM text. A Verifier is safe for concurrent use.
type Verifier struct {
	Roots         *x509.CertPool
	Intermediates *x509.CertPool
	Now           func() time.Time

	mu    sync.Mutex
	certs map[string]*x509.Certificate
}

// NewVerifier returns a Verifier trusting roots.
func NewVerifier(roots []*x509.Certificate, intermediates []*x509.Certificate, now func() time.Time) *Verifier {
	v := &Verifier{Roots: x509.NewCertPool(), Intermediates: x509.NewCertPool(), Now: now, certs: map[string]*x509.Certificate{}}
	for _, c := range roots {
		v.Roots.AddCert(c)
	}
	for _, c := range intermediates {
		v.Intermediates.AddCert(c)
	}
	return v
}

// signer returns the verified signing certificate of PEM text p.
func (v *Verifier) signer(p string) (*x509.Certificate, error) {
	v.mu.Lock()
	c := v.certs[p]
	v.mu.Unlock()
	if c != nil && v.Now().Before(c.NotAfter) && v.Now().After(c.NotBefore) {
		return c, nil
	}
	blk, _ := pem.Decode([]byte(p))
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: signPubKeyCert is not a PEM certificate", ErrBadSign)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: parsing signPubKeyCert: %v", ErrBadSign, err)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: v.Roots, Intermediates: v.Intermediates, CurrentTime: v.Now(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fmt.Errorf("%w: signPubKeyCert: %v", ErrBadSign, err)
	}
	if _, ok := c.PublicKey.(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("%w: signPubKeyCert holds no RSA key", ErrBadSign)
	}
	v.mu.Lock()
	if len(v.certs) > 16 {
		clear(v.certs)
	}
	v.certs[p] = c
	v.mu.Unlock()
	return c, nil
}

// ParseResponse reads a gateway answer and verifies it: version 5.1.0,
// signMethod 01, a signPubKeyCert chaining to v's roots, and a signature
// of the answer's string to sign under that certificate's key (else
// ErrBadSign); anything unreadable, or an answer without respCode, is
// ErrMalformed. Only a nil error means the Fields can be trusted.
func ParseResponse(body []byte, v *Verifier) (Fields, error) {
	f, err := Decode(body)
	if err != nil {
		return nil, err
	}
	if f[FieldRespCode] == "" {
		return nil, fmt.Errorf("%w: no respCode", ErrMalformed)
	}
	if f[FieldVersion] != Version510 || f[FieldSignMethod] != SignMethodRSA {
		return nil, fmt.Errorf("%w: version %q signMethod %q", ErrBadSign, f[FieldVersion], f[FieldSignMethod])
	}
	if f[FieldSignature] == "" {
		return nil, fmt.Errorf("%w: no signature", ErrBadSign)
	}
	c, err := v.signer(f[FieldSignPubKeyCert])
	if err != nil {
		return nil, err
	}
	if !f.Verify(c.PublicKey.(*rsa.PublicKey)) {
		return nil, ErrBadSign
	}
	return f, nil
}

// CertID is ACP's certId of c: its serial number in decimal.
func CertID(c *x509.Certificate) string { return c.SerialNumber.String() }

// ParseCertificates reads every PEM CERTIFICATE block of b.
func ParseCertificates(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing a certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("reading certificates: no PEM CERTIFICATE block")
	}
	return out, nil
}

// ParsePrivateKey reads an RSA private key from PEM (PKCS #1 or #8).
func ParsePrivateKey(b []byte) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("reading the private key: not PEM")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing the RSA private key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("parsing the private key: not an RSA key")
	}
	return rk, nil
}

// EncodePrivateKey renders k as PKCS #8 PEM.
func EncodePrivateKey(k *rsa.PrivateKey) []byte {
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// EncodeCertificate renders c as PEM.
func EncodeCertificate(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// MaskCode masks a payment code to its first and last four digits.
func MaskCode(s string) string {
	if len(s) <= 8 {
		return strings.Repeat("*", len(s))
	}
	return s[:4] + strings.Repeat("*", len(s)-8) + s[len(s)-4:]
}
