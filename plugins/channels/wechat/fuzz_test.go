package wechat

import (
	"errors"
	"testing"
)

// FuzzParseResponse feeds arbitrary bodies to the answer parser: it never
// panics, and whatever it accepts is a SUCCESS answer whose sign verifies
// and which survives Encode / Decode unchanged.
func FuzzParseResponse(f *testing.F) {
	signed := Fields{"return_code": "SUCCESS", "return_msg": "OK", "result_code": "SUCCESS", "appid": katFields["appid"],
		"mch_id": katFields["mch_id"], "nonce_str": "ibuaiVcKdpRxkhJA", "out_trade_no": "P10000001000001000001",
		"total_fee": "1000", "transaction_id": "4200202608200000000000000001", "time_end": "20260820103000"}
	signed["sign"] = Sign(signed, katKey, SignMD5)
	f.Add(Encode(signed))
	f.Add([]byte("<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[签名错误]]></return_msg></xml>"))
	for _, body := range [][]byte{Encode(katFields), []byte("<xml></xml>"), []byte("<xml><a>1</a><a>2</a></xml>")} {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := ParseResponse(body, katKey, SignMD5)
		if err != nil {
			var ge *GatewayError
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSign) && !errors.As(err, &ge) {
				t.Fatalf("ParseResponse error of an unknown kind: %v", err)
			}
			return
		}
		if got["return_code"] != "SUCCESS" || !Verify(got, katKey, SignMD5) {
			t.Fatalf("accepted %q as %v", body, got)
		}
		again, err := Decode(Encode(got))
		if err != nil || len(again) != len(got) {
			t.Fatalf("Decode(Encode(%v)) = %v, %v", got, again, err)
		}
		for k, v := range got {
			if again[k] != v {
				t.Fatalf("field %s: %q became %q", k, v, again[k])
			}
		}
	})
}
