package wechat

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// SignType is how a message's sign field is computed (the sign_type field).
type SignType string

// Sign types of WeChat Pay API v2.
const (
	SignMD5        SignType = "MD5" // the default when sign_type is absent
	SignHMACSHA256 SignType = "HMAC-SHA256"
)

// ParseSignType reads a sign_type value; empty is MD5.
func ParseSignType(s string) (SignType, error) {
	switch SignType(s) {
	case "", SignMD5:
		return SignMD5, nil
	case SignHMACSHA256:
		return SignHMACSHA256, nil
	}
	return "", fmt.Errorf("sign type %q, want MD5 or HMAC-SHA256", s)
}

// Fields are the fields of one API v2 message, name to value, as carried
// in its <xml> document.
type Fields map[string]string

// StringToSign is WeChat's stringA: the non-empty fields other than sign,
// sorted by name (byte order), joined as name=value with &.
func (f Fields) StringToSign() string {
	names := make([]string, 0, len(f))
	for k, v := range f {
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
		b.WriteString(f[k])
	}
	return b.String()
}

// Sign computes the sign of f under the merchant's API key: upper-case hex
// of MD5(stringA + "&key=" + key), or of HMAC-SHA256 keyed with key over
// the same string.
func Sign(f Fields, key string, st SignType) string {
	s := f.StringToSign() + "&key=" + key
	var sum []byte
	if st == SignHMACSHA256 {
		m := hmac.New(sha256.New, []byte(key))
		m.Write([]byte(s))
		sum = m.Sum(nil)
	} else {
		h := md5.Sum([]byte(s))
		sum = h[:]
	}
	return strings.ToUpper(hex.EncodeToString(sum))
}

// Verify reports whether f carries the sign Sign computes for it.
func Verify(f Fields, key string, st SignType) bool {
	got := f["sign"]
	return got != "" && hmac.Equal([]byte(got), []byte(Sign(f, key, st)))
}

// Encode renders f as WeChat's <xml> document, fields sorted by name, each
// value in a CDATA section.
func Encode(f Fields) []byte {
	names := make([]string, 0, len(f))
	for k := range f {
		names = append(names, k)
	}
	slices.Sort(names)
	var b bytes.Buffer
	b.WriteString("<xml>")
	for _, k := range names {
		b.WriteString("<" + k + "><![CDATA[")
		b.WriteString(strings.ReplaceAll(f[k], "]]>", "]]]]><![CDATA[>"))
		b.WriteString("]]></" + k + ">")
	}
	b.WriteString("</xml>")
	return b.Bytes()
}

// MaxMessage is the largest <xml> document Decode reads.
const MaxMessage = 64 << 10

// ErrMalformed is the error of a document that is not a flat <xml> message.
var ErrMalformed = errors.New("malformed WeChat Pay message")

// Decode reads a flat <xml> document: a root element xml whose children
// are elements holding text only, each name once. Anything else (another
// root, nesting, a directive, a repeated field, content after the root) is
// ErrMalformed.
func Decode(b []byte) (Fields, error) {
	if len(b) > MaxMessage {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	f := Fields{}
	depth := 0
	var field string
	var text strings.Builder
	done := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if !done {
				return nil, fmt.Errorf("%w: no complete <xml> element", ErrMalformed)
			}
			return f, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if done || t.Name.Space != "" || len(t.Attr) != 0 {
				return nil, fmt.Errorf("%w: unexpected element <%s>", ErrMalformed, t.Name.Local)
			}
			switch depth {
			case 0:
				if t.Name.Local != "xml" {
					return nil, fmt.Errorf("%w: root <%s>, want <xml>", ErrMalformed, t.Name.Local)
				}
			case 1:
				field = t.Name.Local
				if _, dup := f[field]; dup {
					return nil, fmt.Errorf("%w: field %s given twice", ErrMalformed, field)
				}
				text.Reset()
			default:
				return nil, fmt.Errorf("%w: nested element <%s>", ErrMalformed, t.Name.Local)
			}
			depth++
		case xml.EndElement:
			depth--
			switch depth {
			case 0:
				done = true
			case 1:
				f[field] = text.String()
			}
		case xml.CharData:
			switch {
			case depth == 2:
				text.Write(t)
			case len(bytes.TrimSpace(t)) != 0:
				return nil, fmt.Errorf("%w: text outside a field", ErrMalformed)
			}
		case xml.ProcInst:
			if depth != 0 || done || t.Target != "xml" {
				return nil, fmt.Errorf("%w: processing instruction", ErrMalformed)
			}
		case xml.Comment:
		default:
			return nil, fmt.Errorf("%w: directive", ErrMalformed)
		}
	}
}

// GatewayError is an answer whose return_code is not SUCCESS: the gateway
// refused the message before any business logic (a bad signature, a
// malformed message, an unknown merchant). WeChat does not sign such an
// answer.
type GatewayError struct {
	ReturnCode string
	ReturnMsg  string
}

func (e *GatewayError) Error() string {
	return fmt.Sprintf("gateway answered return_code %s: %s", e.ReturnCode, e.ReturnMsg)
}

// ErrBadSign is the error of an answer whose sign does not verify.
var ErrBadSign = errors.New("answer signature did not verify")

// ParseResponse decodes a gateway answer and checks it: return_code
// SUCCESS (else a *GatewayError) and a sign that verifies under key with
// st (else ErrBadSign). Only a nil error means the fields can be trusted.
func ParseResponse(body []byte, key string, st SignType) (Fields, error) {
	f, err := Decode(body)
	if err != nil {
		return nil, err
	}
	if rc := f["return_code"]; rc != "SUCCESS" {
		if rc == "" {
			rc = "(none)"
		}
		return nil, &GatewayError{ReturnCode: rc, ReturnMsg: f["return_msg"]}
	}
	if !Verify(f, key, st) {
		return nil, ErrBadSign
	}
	return f, nil
}

// MaskCode masks a payment code (or any secret shown in part) to its first
// and last four characters.
func MaskCode(s string) string {
	if len(s) <= 8 {
		return strings.Repeat("*", len(s))
	}
	return s[:4] + strings.Repeat("*", len(s)-8) + s[len(s)-4:]
}
