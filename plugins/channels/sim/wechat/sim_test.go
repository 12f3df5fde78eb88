package wxsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	wxsim "github.com/posrt/posrt/plugins/channels/sim/wechat"
	"github.com/posrt/posrt/plugins/channels/wechat"
)

const (
	appID = "wxd930ea5d5a258f4f"
	mchID = "10000100"
	key   = "192006250b4c09247ec02edce69f6a2d"
)

func start(t *testing.T) *wxsim.Server {
	t.Helper()
	s, err := wxsim.Serve(context.Background(), wxsim.Config{Merchants: []wxsim.Merchant{{AppID: appID, MchID: mchID, Key: key}}, AdminAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// post sends raw XML as any client would and returns the decoded answer.
func post(t *testing.T, s *wxsim.Server, path string, body []byte) wechat.Fields {
	t.Helper()
	resp, err := http.Post(s.Addr()+path, "text/xml", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	f, err := wechat.Decode(b)
	if err != nil {
		t.Fatalf("answer %q: %v", b, err)
	}
	return f
}

func signed(f wechat.Fields, st wechat.SignType) []byte {
	f["sign"] = wechat.Sign(f, key, st)
	return wechat.Encode(f)
}

// A micropay written by hand as WeChat's page shows it (no CDATA, fields
// in any order) is paid, and the answer is signed with the request's sign
// type.
func TestThirdPartyClient(t *testing.T) {
	s := start(t)
	for i, st := range []wechat.SignType{wechat.SignMD5, wechat.SignHMACSHA256} {
		f := wechat.Fields{"appid": appID, "mch_id": mchID, "nonce_str": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS", "body": "image形象店-深圳腾大- QQ公仔",
			"out_trade_no": "1217752501201407033233368018"[:27+i], "total_fee": "888", "spbill_create_ip": "8.8.8.8", "auth_code": "12006109882800940" + string(rune('6'+i))}
		if st == wechat.SignHMACSHA256 {
			f["sign_type"] = string(st)
		}
		f["sign"] = wechat.Sign(f, key, st)
		var b strings.Builder
		b.WriteString("<xml>")
		for _, k := range []string{"sign", "total_fee", "appid", "auth_code", "body", "mch_id", "nonce_str", "out_trade_no", "spbill_create_ip", "sign_type"} {
			if f[k] != "" {
				b.WriteString("<" + k + ">" + f[k] + "</" + k + ">")
			}
		}
		b.WriteString("</xml>")
		ans := post(t, s, wechat.PathMicropay, []byte(b.String()))
		if ans["return_code"] != "SUCCESS" || ans["result_code"] != "SUCCESS" || ans["total_fee"] != "888" || ans["transaction_id"] == "" {
			t.Fatalf("%s micropay answered %v", st, ans)
		}
		if !wechat.Verify(ans, key, st) {
			t.Errorf("%s answer does not verify: %v", st, ans)
		}
	}
}

func TestRefusals(t *testing.T) {
	s := start(t)
	base := func() wechat.Fields {
		return wechat.Fields{"appid": appID, "mch_id": mchID, "nonce_str": "n", "out_trade_no": "P1"}
	}
	// A bad sign is refused at the return_code level, unsigned.
	f := base()
	f["sign"] = "00000000000000000000000000000000"
	if a := post(t, s, wechat.PathOrderQuery, wechat.Encode(f)); a["return_code"] != "FAIL" || a["return_msg"] != "签名错误" || a["sign"] != "" {
		t.Errorf("bad sign answered %v", a)
	}
	f = base()
	f["mch_id"] = "999"
	if a := post(t, s, wechat.PathOrderQuery, signed(f, wechat.SignMD5)); a["return_code"] != "FAIL" {
		t.Errorf("unknown mch_id answered %v", a)
	}
	f = base()
	f["appid"] = "wx0000000000000000"
	if a := post(t, s, wechat.PathOrderQuery, signed(f, wechat.SignMD5)); a["err_code"] != string(wechat.CodeAppIDMchIDMismatch) || !wechat.Verify(a, key, wechat.SignMD5) {
		t.Errorf("another appid answered %v", a)
	}
	if a := post(t, s, wechat.PathMicropay, []byte("<xml><a>")); a["return_code"] != "FAIL" {
		t.Errorf("garbage answered %v", a)
	}
	f = base()
	f["total_fee"], f["body"], f["spbill_create_ip"], f["auth_code"] = "10.00", "x", "127.0.0.1", "134567890123456789"
	if a := post(t, s, wechat.PathMicropay, signed(f, wechat.SignMD5)); a["err_code"] != string(wechat.CodeParamError) {
		t.Errorf("total_fee in yuan answered %v", a)
	}
	delete(f, "auth_code")
	f["total_fee"] = "1000"
	if a := post(t, s, wechat.PathMicropay, signed(f, wechat.SignMD5)); a["err_code"] != string(wechat.CodeLackParams) {
		t.Errorf("no auth_code answered %v", a)
	}
	if n := len(s.Ledger()); n != 0 {
		t.Errorf("%d ledger entries after refusals", n)
	}
}

func TestAdmin(t *testing.T) {
	s := start(t)
	resp, err := http.Post(s.AdminURL()+"/faults", "application/json", strings.NewReader(`{"kind":"user_paying","polls":3}`))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /faults = %v, %v", resp, err)
	}
	resp, _ = http.Post(s.AdminURL()+"/faults", "application/json", strings.NewReader(`{"kind":"flood"}`))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST of an unknown fault = %d", resp.StatusCode)
	}
	if f := s.Faults(); len(f) != 1 || f[0].Polls != 3 {
		t.Fatalf("faults = %+v", f)
	}
	f := wechat.Fields{"appid": appID, "mch_id": mchID, "nonce_str": "n", "out_trade_no": "P2", "total_fee": "100", "body": "x", "spbill_create_ip": "127.0.0.1", "auth_code": "134567890123456789"}
	if a := post(t, s, wechat.PathMicropay, signed(f, wechat.SignMD5)); a["err_code"] != string(wechat.CodeUserPaying) {
		t.Fatalf("micropay under user_paying answered %v", a)
	}
	resp, err = http.Get(s.AdminURL() + "/ledger")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var entries []wxsim.Entry
	if err := json.NewDecoder(resp.Body).Decode(&entries); err != nil || len(entries) != 1 || entries[0].State != wechat.StateUserPaying || entries[0].MaskedCode != "1345**********6789" {
		t.Errorf("GET /ledger = %+v, %v", entries, err)
	}
}
