package alipay_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/alipay"
)

// The string to sign of the example on Alipay's signing page (自行实现签名,
// opendocs.alipay.com/common/02kf5q): every parameter but sign, sorted,
// name=value joined with &, nothing encoded.
func TestStringToSignOfThePublishedExample(t *testing.T) {
	p := alipay.Params{
		"method": "alipay.mobile.public.menu.add", "charset": "GBK", "sign_type": "RSA2", "timestamp": "2014-07-24 03:07:50",
		"biz_content": `{"button":[{"actionParam":"ZFB_HFCZ","actionType":"out","name":"话费充值"},{"name":"查询","subButton":[{"actionParam":"ZFB_YECX","actionType":"out","name":"余额查询"},{"actionParam":"ZFB_LLCX","actionType":"out","name":"流量查询"},{"actionParam":"ZFB_HFCX","actionType":"out","name":"话费查询"}]},{"actionParam":"http://m.alipay.com","actionType":"link","name":"最新优惠"}]}`,
		"app_id":      "2014072300007148", "version": "1.0", "sign": "ignored", "notify_url": "",
	}
	want := `app_id=2014072300007148&biz_content={"button":[{"actionParam":"ZFB_HFCZ","actionType":"out","name":"话费充值"},{"name":"查询","subButton":[{"actionParam":"ZFB_YECX","actionType":"out","name":"余额查询"},{"actionParam":"ZFB_LLCX","actionType":"out","name":"流量查询"},{"actionParam":"ZFB_HFCX","actionType":"out","name":"话费查询"}]},{"actionParam":"http://m.alipay.com","actionType":"link","name":"最新优惠"}]}&charset=GBK&method=alipay.mobile.public.menu.add&sign_type=RSA2&timestamp=2014-07-24 03:07:50&version=1.0`
	if got := p.StringToSign(); got != want {
		t.Fatalf("StringToSign =\n%s\nwant\n%s", got, want)
	}
}

// What the plugin sends for a trade.pay is the documented form, written
// out here literally, signed RSA2 with the merchant's key: the gateway
// sees a form whose sign verifies over exactly this string.
func TestPluginSignsTheDocumentedString(t *testing.T) {
	mk, _ := keys(t)
	var form url.Values
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			t.Errorf("request %s %s", r.Method, r.Header.Get("Content-Type"))
		}
		_ = r.ParseForm()
		form = r.PostForm
		w.WriteHeader(http.StatusOK)
	}))
	defer gw.Close()
	sim, _ := startSim(t, nil)
	cfg := pluginConfig(t, sim, map[string]string{"gateway": gw.URL + "/gateway.do"})
	w := alipay.New()
	if err := w.Configure(context.Background(), channels.WalletAPIVersion1, cfg); err != nil {
		t.Fatal(err)
	}
	k := channels.Key{TID: "10000001", MID: "898310048990001", Batch: "000001", Trace: "000042"}
	_, err := w.Pay(context.Background(), channels.PayRequest{Key: k, OrderNo: "P10000001000001000042", Amount: 1999, AuthCode: "286991234567890123", Subject: "posrt 测试"})
	if !errors.Is(err, channels.ErrNoAnswer) {
		t.Fatalf("Pay against a gateway answering nothing = %v, want ErrNoAnswer", err)
	}
	ts := form.Get("timestamp")
	if _, err := time.Parse(time.DateTime, ts); err != nil {
		t.Fatalf("timestamp %q: %v", ts, err)
	}
	want := `app_id=2014072300007148&biz_content={"auth_code":"286991234567890123","out_trade_no":"P10000001000001000042","scene":"bar_code","subject":"posrt 测试","terminal_id":"10000001","total_amount":"19.99"}&charset=utf-8&format=JSON&method=alipay.trade.pay&sign_type=RSA2&timestamp=` + ts + `&version=1.0`
	if !alipay.VerifyRSA2([]byte(want), form.Get("sign"), &mk.PublicKey) {
		p := alipay.Params{}
		for k, v := range form {
			p[k] = v[0]
		}
		t.Fatalf("the sign does not verify over\n%s\nthe form signs\n%s", want, p.StringToSign())
	}
	// PKCS #1 v1.5 is deterministic: the same key and string give this sign.
	if again, _ := alipay.SignRSA2([]byte(want), mk); again != form.Get("sign") {
		t.Errorf("SignRSA2 of the string = %s, the plugin sent %s", again, form.Get("sign"))
	}
}

func TestYuan(t *testing.T) {
	for fen, yuan := range map[int64]string{0: "0.00", 1: "0.01", 10: "0.10", 100: "1.00", 1999: "19.99", 123456789012: "1234567890.12"} {
		if got := alipay.FormatYuan(fen); got != yuan {
			t.Errorf("FormatYuan(%d) = %s, want %s", fen, got, yuan)
		}
		if got, err := alipay.ParseYuan(yuan); err != nil || got != fen {
			t.Errorf("ParseYuan(%s) = %d, %v; want %d", yuan, got, err, fen)
		}
	}
	for s, fen := range map[string]int64{"12": 1200, "12.3": 1230, "0.1": 10} {
		if got, err := alipay.ParseYuan(s); err != nil || got != fen {
			t.Errorf("ParseYuan(%s) = %d, %v; want %d", s, got, err, fen)
		}
	}
	for _, bad := range []string{"", "1.234", "-1.00", "01.00", "1e3", "1.", ".5", " 1.00", "1,00", "NaN"} {
		if v, err := alipay.ParseYuan(bad); err == nil {
			t.Errorf("ParseYuan(%q) = %d, want an error", bad, v)
		}
	}
}

// The answer's sign is over the exact bytes of the answer object: the
// same fields reordered or respaced no longer verify.
func TestParseResponseVerifiesTheExactBytes(t *testing.T) {
	_, gk := keys(t)
	r := alipay.Response{Code: alipay.CodeSuccess, Msg: "Success", OutTradeNo: "P1", TradeNo: "2026", TotalAmount: "1.00"}
	body, err := alipay.EncodeResponse(alipay.MethodPay, r, gk)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := alipay.ParseResponse(body, alipay.MethodPay, &gk.PublicKey); err != nil || got != r {
		t.Fatalf("ParseResponse = %+v, %v", got, err)
	}
	for name, b := range map[string]string{
		"respaced":       strings.Replace(string(body), `"code":"10000",`, `"code": "10000",`, 1),
		"amount changed": strings.Replace(string(body), `"1.00"`, `"9.00"`, 1),
		"no sign":        strings.Replace(string(body), `"sign":`, `"sig":`, 1),
		"other method":   strings.Replace(string(body), "alipay_trade_pay_response", "alipay_trade_query_response", 1),
	} {
		if _, err := alipay.ParseResponse([]byte(b), alipay.MethodPay, &gk.PublicKey); err == nil {
			t.Errorf("%s: ParseResponse accepted %s", name, b)
		}
	}
	mk, _ := keys(t)
	if _, err := alipay.ParseResponse(body, alipay.MethodPay, &mk.PublicKey); !errors.Is(err, alipay.ErrBadSign) {
		t.Errorf("ParseResponse under another key = %v, want ErrBadSign", err)
	}
}
