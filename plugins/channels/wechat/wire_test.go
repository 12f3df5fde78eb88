package wechat

import (
	"errors"
	"strings"
	"testing"
)

// The worked example of WeChat Pay's signing rule, API v2 "安全规范"
// (security rules), section 签名算法 (signature algorithm):
// https://pay.weixin.qq.com/wiki/doc/api/micropay.php?chapter=4_3 (the
// same page is published for every payment product, e.g. H5.php?chapter=4_3).
var katFields = Fields{
	"appid":       "wxd930ea5d5a258f4f",
	"mch_id":      "10000100",
	"device_info": "1000",
	"body":        "test",
	"nonce_str":   "ibuaiVcKdpRxkhJA",
}

const (
	katKey        = "192006250b4c09247ec02edce69f6a2d"
	katStringA    = "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA"
	katMD5        = "9A0A8659F005D6984697E2CA0A9CF3B7"
	katHMACSHA256 = "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
)

func TestSignKnownAnswer(t *testing.T) {
	if got := katFields.StringToSign(); got != katStringA {
		t.Errorf("stringA = %q, want %q", got, katStringA)
	}
	if got := Sign(katFields, katKey, SignMD5); got != katMD5 {
		t.Errorf("MD5 sign = %s, want %s", got, katMD5)
	}
	if got := Sign(katFields, katKey, SignHMACSHA256); got != katHMACSHA256 {
		t.Errorf("HMAC-SHA256 sign = %s, want %s", got, katHMACSHA256)
	}
	// Empty fields and sign itself take no part.
	f := Fields{"sign": "X", "attach": ""}
	for k, v := range katFields {
		f[k] = v
	}
	if got := Sign(f, katKey, SignMD5); got != katMD5 {
		t.Errorf("MD5 sign with an empty field and a sign = %s, want %s", got, katMD5)
	}
	f["sign"] = katMD5
	if !Verify(f, katKey, SignMD5) {
		t.Error("the example's sign does not verify")
	}
	for _, bad := range []func(Fields){
		func(f Fields) { f["body"] = "test2" },
		func(f Fields) { f["sign"] = strings.ToLower(katMD5) },
		func(f Fields) { delete(f, "sign") },
		func(f Fields) { f["extra"] = "1" },
	} {
		g := Fields{}
		for k, v := range f {
			g[k] = v
		}
		bad(g)
		if Verify(g, katKey, SignMD5) {
			t.Errorf("%v verifies", g)
		}
	}
	if Verify(f, katKey, SignHMACSHA256) || Verify(f, katKey+"0", SignMD5) {
		t.Error("the MD5 sign verifies as HMAC-SHA256 or under another key")
	}
}

func TestEncodeDecode(t *testing.T) {
	f := Fields{"a": "1", "b": "x]]>y<&>", "c": "中文"}
	got, err := Decode(Encode(f))
	if err != nil || len(got) != 3 || got["a"] != "1" || got["b"] != "x]]>y<&>" || got["c"] != "中文" {
		t.Fatalf("Decode(Encode(%v)) = %v, %v", f, got, err)
	}
	good := `<?xml version="1.0" encoding="UTF-8"?>` + "\n<xml>\n <return_code><![CDATA[SUCCESS]]></return_code>\n <total_fee>1</total_fee><empty/>\n</xml>\n"
	if f, err := Decode([]byte(good)); err != nil || f["return_code"] != "SUCCESS" || f["total_fee"] != "1" || f["empty"] != "" {
		t.Errorf("Decode(WeChat's form) = %v, %v", f, err)
	}
	for _, bad := range []string{
		"", "<xml>", "<root><a>1</a></root>", "<xml><a><b>1</b></a></xml>", "<xml><a>1</a><a>2</a></xml>",
		"<xml><a>1</a></xml><xml></xml>", "<xml>text<a>1</a></xml>", `<xml><a x="1">1</a></xml>`,
		`<!DOCTYPE xml [<!ENTITY e "x">]><xml><a>&e;</a></xml>`, "<xml><a>1</a></xml>trailing", "<xml><a>&bogus;</a></xml>",
	} {
		if f, err := Decode([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("Decode(%q) = %v, %v; want ErrMalformed", bad, f, err)
		}
	}
}

func TestParseResponse(t *testing.T) {
	f := Fields{"return_code": "SUCCESS", "result_code": "SUCCESS", "appid": "wx1", "mch_id": "1"}
	f["sign"] = Sign(f, katKey, SignHMACSHA256)
	if got, err := ParseResponse(Encode(f), katKey, SignHMACSHA256); err != nil || got["result_code"] != "SUCCESS" {
		t.Errorf("ParseResponse(signed) = %v, %v", got, err)
	}
	if _, err := ParseResponse(Encode(f), katKey, SignMD5); !errors.Is(err, ErrBadSign) {
		t.Errorf("ParseResponse under the other sign type: %v, want ErrBadSign", err)
	}
	var ge *GatewayError
	if _, err := ParseResponse([]byte("<xml><return_code>FAIL</return_code><return_msg>签名错误</return_msg></xml>"), katKey, SignMD5); !errors.As(err, &ge) || ge.ReturnMsg != "签名错误" {
		t.Errorf("ParseResponse(FAIL) = %v, want a GatewayError", err)
	}
}

func TestMaskCode(t *testing.T) {
	if got := MaskCode("134567890123456789"); got != "1345**********6789" {
		t.Errorf("MaskCode = %s", got)
	}
	if got := MaskCode("12345678"); got != "********" {
		t.Errorf("MaskCode(short) = %s", got)
	}
}
