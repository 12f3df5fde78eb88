package alipay

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

// fuzzKey is the key of testdata/fuzz_key.pem, a pair posrt generated for
// its tests only; the committed signed seeds are signed with it.
func fuzzKey(f *testing.F) []byte {
	b, err := os.ReadFile("testdata/fuzz_key.pem")
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzParseResponse feeds arbitrary bodies to the answer parser: it never
// panics, and whatever it accepts carries a code and a sign that verifies
// over the exact bytes of its answer object.
func FuzzParseResponse(f *testing.F) {
	key, err := ParsePrivateKey(fuzzKey(f))
	if err != nil {
		f.Fatal(err)
	}
	signed, err := EncodeResponse(MethodPay, Response{Code: CodeSuccess, Msg: "Success", OutTradeNo: "P10000001000001000001", TradeNo: "2026082022001000000001", TotalAmount: "10.00", GmtPayment: "2026-08-20 10:30:00"}, key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Add([]byte(`{"alipay_trade_pay_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature"}}`))
	f.Add([]byte(`{"alipay_trade_pay_response":"x","sign":"AAAA"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseResponse(body, MethodPay, &key.PublicKey)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSign) {
				t.Fatalf("ParseResponse error of an unknown kind: %v", err)
			}
			return
		}
		var env map[string]json.RawMessage
		if json.Unmarshal(body, &env) != nil {
			t.Fatalf("accepted a body that is not JSON: %q", body)
		}
		var sig string
		_ = json.Unmarshal(env["sign"], &sig)
		if r.Code == "" || !VerifyRSA2(env[MethodPay.ResponseKey()], sig, &key.PublicKey) {
			t.Fatalf("accepted %q as %+v", body, r)
		}
		if !bytes.HasPrefix(bytes.TrimSpace(env[MethodPay.ResponseKey()]), []byte("{")) {
			t.Fatalf("accepted a non-object answer %q", body)
		}
	})
}
