package alipay

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Params are the parameters of one openapi request, name to value, as
// carried in its form body.
type Params map[string]string

// StringToSign is Alipay's 待签名字符串: every parameter but sign whose
// value is not empty, sorted by name (byte order), joined as name=value
// with &, values neither encoded nor escaped.
func (p Params) StringToSign() string {
	names := make([]string, 0, len(p))
	for k, v := range p {
		if k != "sign" && v != "" {
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
		b.WriteString(p[k])
	}
	return b.String()
}

// SignRSA2 signs content RSA2: SHA256withRSA, PKCS #1 v1.5, base64 (std).
func SignRSA2(content []byte, key *rsa.PrivateKey) (string, error) {
	sum := sha256.Sum256(content)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing RSA2: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// VerifyRSA2 reports whether sig (base64) is key's RSA2 signature of content.
func VerifyRSA2(content []byte, sig string, key *rsa.PublicKey) bool {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(raw) == 0 {
		return false
	}
	sum := sha256.Sum256(content)
	return rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], raw) == nil
}

// Sign sets p's sign to the RSA2 signature of p.StringToSign().
func (p Params) Sign(key *rsa.PrivateKey) error {
	s, err := SignRSA2([]byte(p.StringToSign()), key)
	if err != nil {
		return err
	}
	p["sign"] = s
	return nil
}

// Verify reports whether p carries key's signature of p.StringToSign().
func (p Params) Verify(key *rsa.PublicKey) bool {
	return VerifyRSA2([]byte(p.StringToSign()), p["sign"], key)
}

// Method is an openapi method name.
type Method string

// ResponseKey is the name of m's answer object: the dots replaced by
// underscores, then _response (alipay_trade_pay_response).
func (m Method) ResponseKey() string { return strings.ReplaceAll(string(m), ".", "_") + "_response" }

// Response is the answer object of one method, its fields as strings
// (Alipay sends amounts as strings with two decimals).
type Response struct {
	Code    ResultCode `json:"code"`
	Msg     string     `json:"msg"`
	SubCode SubCode    `json:"sub_code,omitempty"`
	SubMsg  string     `json:"sub_msg,omitempty"`

	TradeNo        string      `json:"trade_no,omitempty"`
	OutTradeNo     string      `json:"out_trade_no,omitempty"`
	TotalAmount    string      `json:"total_amount,omitempty"`
	BuyerPayAmount string      `json:"buyer_pay_amount,omitempty"`
	GmtPayment     string      `json:"gmt_payment,omitempty"`
	SendPayDate    string      `json:"send_pay_date,omitempty"`
	TradeStatus    TradeStatus `json:"trade_status,omitempty"`
	// trade.cancel
	RetryFlag Flag         `json:"retry_flag,omitempty"`
	Action    CancelAction `json:"action,omitempty"`
	// trade.refund: RefundFee is the trade's refunded total; FundChange
	// Y when this call moved money.
	RefundFee  string `json:"refund_fee,omitempty"`
	FundChange Flag   `json:"fund_change,omitempty"`
	// fastpay.refund.query
	OutRequestNo string `json:"out_request_no,omitempty"`
	RefundAmount string `json:"refund_amount,omitempty"`
	RefundStatus string `json:"refund_status,omitempty"`
	GmtRefundPay string `json:"gmt_refund_pay,omitempty"`
}

// MaxMessage is the longest answer ParseResponse reads.
const MaxMessage = 64 << 10

// ErrMalformed is the error of a body that is not an openapi answer.
var ErrMalformed = errors.New("malformed Alipay answer")

// ErrBadSign is the error of an answer whose sign is missing or does not
// verify.
var ErrBadSign = errors.New("answer signature did not verify")

// ParseResponse reads a gateway answer to method m: a JSON object holding
// m.ResponseKey() and sign. The sign must be the gateway's RSA2 signature
// of the exact bytes of the answer object as they stand in body (else
// ErrBadSign); anything unreadable is ErrMalformed. Only a nil error means
// the Response can be trusted.
func ParseResponse(body []byte, m Method, key *rsa.PublicKey) (Response, error) {
	if len(body) > MaxMessage {
		return Response{}, fmt.Errorf("%w: %d bytes", ErrMalformed, len(body))
	}
	env, err := envelope(body)
	if err != nil {
		return Response{}, err
	}
	raw, ok := env[m.ResponseKey()]
	if !ok || len(raw) == 0 || raw[0] != '{' {
		return Response{}, fmt.Errorf("%w: no %s object", ErrMalformed, m.ResponseKey())
	}
	var sig string
	if s, ok := env["sign"]; !ok || json.Unmarshal(s, &sig) != nil || sig == "" {
		return Response{}, fmt.Errorf("%w: no sign", ErrBadSign)
	}
	if !VerifyRSA2(raw, sig, key) {
		return Response{}, ErrBadSign
	}
	var r Response
	d := json.NewDecoder(bytes.NewReader(raw))
	if err := d.Decode(&r); err != nil {
		return Response{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if r.Code == "" {
		return Response{}, fmt.Errorf("%w: no code", ErrMalformed)
	}
	return r, nil
}

// envelope reads the answer's top-level object, each member's value as
// its exact bytes; a name given twice is ErrMalformed (two readers could
// take different ones).
func envelope(body []byte) (map[string]json.RawMessage, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	env := map[string]json.RawMessage{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		name, _ := tok.(string)
		if _, dup := env[name]; dup {
			return nil, fmt.Errorf("%w: %s given twice", ErrMalformed, name)
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		env[name] = v
	}
	if _, err := d.Token(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: content after the object", ErrMalformed)
	}
	return env, nil
}

// EncodeResponse renders r as the gateway does: {"<key>":r,"sign":...},
// the sign over the exact bytes of r's JSON.
func EncodeResponse(m Method, r Response, key *rsa.PrivateKey) ([]byte, error) {
	obj, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding the answer: %w", err)
	}
	sig, err := SignRSA2(obj, key)
	if err != nil {
		return nil, err
	}
	name, _ := json.Marshal(m.ResponseKey())
	s, _ := json.Marshal(sig)
	var b bytes.Buffer
	b.WriteString("{")
	b.Write(name)
	b.WriteString(":")
	b.Write(obj)
	b.WriteString(`,"sign":`)
	b.Write(s)
	b.WriteString("}")
	return b.Bytes(), nil
}

// FormatYuan renders fen as yuan with two decimals (1234 -> "12.34"),
// in integers only.
func FormatYuan(fen int64) string {
	if fen < 0 {
		return "-" + FormatYuan(-fen)
	}
	return strconv.FormatInt(fen/100, 10) + "." + fmt.Sprintf("%02d", fen%100)
}

var yuanRule = regexp.MustCompile(`^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$`)

// ParseYuan reads an amount in yuan with at most two decimals ("12.3",
// "12.34", "12") as fen, in integers only.
func ParseYuan(s string) (int64, error) {
	m := yuanRule.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("amount %q is not yuan with at most two decimals", s)
	}
	whole, _ := strconv.ParseInt(m[1], 10, 64)
	frac := int64(0)
	if m[2] != "" {
		d := m[2][1:]
		if len(d) == 1 {
			d += "0"
		}
		frac, _ = strconv.ParseInt(d, 10, 64)
	}
	return whole*100 + frac, nil
}

// ParsePrivateKey reads an RSA private key from PEM (PKCS #1 or #8), or
// from the bare base64 DER Alipay's key tool writes.
func ParsePrivateKey(b []byte) (*rsa.PrivateKey, error) {
	der, err := pemOrBase64(b)
	if err != nil {
		return nil, err
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parsing the RSA private key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("parsing the private key: not an RSA key")
	}
	return rk, nil
}

// ParsePublicKey reads an RSA public key from PEM (PKIX or PKCS #1), or
// from bare base64 DER.
func ParsePublicKey(b []byte) (*rsa.PublicKey, error) {
	der, err := pemOrBase64(b)
	if err != nil {
		return nil, err
	}
	if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("parsing the RSA public key: %w", err)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("parsing the public key: not an RSA key")
	}
	return rk, nil
}

func pemOrBase64(b []byte) ([]byte, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		return blk.Bytes, nil
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
	if err != nil {
		return nil, errors.New("decoding the key: neither PEM nor base64")
	}
	return der, nil
}

// EncodePrivateKey renders k as PKCS #8 PEM.
func EncodePrivateKey(k *rsa.PrivateKey) []byte {
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// EncodePublicKey renders k as PKIX PEM.
func EncodePublicKey(k *rsa.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(k)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// MaskCode masks a payment code to its first and last four characters.
func MaskCode(s string) string {
	if len(s) <= 8 {
		return strings.Repeat("*", len(s))
	}
	return s[:4] + strings.Repeat("*", len(s)-8) + s[len(s)-4:]
}
