package alisim_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/posrt/posrt/plugins/channels/alipay"
	alisim "github.com/posrt/posrt/plugins/channels/sim/alipay"
)

const appID = "2014072300007148"

func start(t *testing.T) (*alisim.Server, *rsa.PrivateKey) {
	t.Helper()
	mk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s, err := alisim.Serve(context.Background(), alisim.Config{AppID: appID, MerchantKey: &mk.PublicKey, AdminAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, mk
}

// post sends a form signed by hand, as any client would, and returns the
// answer, checked against the gateway's key.
func post(t *testing.T, s *alisim.Server, mk *rsa.PrivateKey, m alipay.Method, biz string) alipay.Response {
	t.Helper()
	p := alipay.Params{"app_id": appID, "method": string(m), "charset": "utf-8", "sign_type": "RSA2", "timestamp": "2026-08-20 10:30:00", "version": "1.0", "biz_content": biz}
	if err := p.Sign(mk); err != nil {
		t.Fatal(err)
	}
	form := url.Values{}
	for k, v := range p {
		form.Set(k, v)
	}
	resp, err := http.PostForm(s.Addr(), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r, err := alipay.ParseResponse(b, m, s.PublicKey())
	if err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	return r
}

// A trade.pay written by hand as Alipay's page shows it (no format
// parameter, biz_content keys in any order) is paid, and the answer is
// signed with the gateway's key.
func TestThirdPartyClient(t *testing.T) {
	s, mk := start(t)
	r := post(t, s, mk, alipay.MethodPay, `{"subject":"Iphone6 16G","scene":"bar_code","total_amount":"88.88","out_trade_no":"20150320010101001","auth_code":"28763443825664394"}`)
	if r.Code != alipay.CodeSuccess || r.TotalAmount != "88.88" || r.TradeNo == "" || r.GmtPayment == "" {
		t.Fatalf("trade.pay = %+v", r)
	}
	if q := post(t, s, mk, alipay.MethodQuery, `{"out_trade_no":"20150320010101001"}`); q.TradeStatus != alipay.StatusTradeSuccess || q.TradeNo != r.TradeNo {
		t.Errorf("trade.query = %+v", q)
	}
	if tr, ok := s.Trade("20150320010101001"); !ok || !tr.Paid || tr.Amount != 8888 {
		t.Errorf("Trade = %+v, %v; want paid 8888 fen", tr, ok)
	}
}

func TestRefusals(t *testing.T) {
	s, mk := start(t)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if r := post(t, s, other, alipay.MethodPay, `{"out_trade_no":"P1","scene":"bar_code","auth_code":"28763443825664394","subject":"x","total_amount":"1.00"}`); r.Code != alipay.CodeInvalidParam || r.SubCode != "isv.invalid-signature" {
		t.Errorf("trade.pay signed by another key = %+v", r)
	}
	for biz, want := range map[string]alipay.ResultCode{
		`{"out_trade_no":"P2","scene":"bar_code","subject":"x","total_amount":"1.00"}`:                                  alipay.CodeMissingParam,
		`{"out_trade_no":"P3","scene":"bar_code","auth_code":"28763443825664394","subject":"x","total_amount":"1.001"}`: alipay.CodeInvalidParam,
		`{"out_trade_no":"P4","scene":"wave_code","auth_code":"28763443825664394","subject":"x","total_amount":"1.00"}`: alipay.CodeInvalidParam,
		`not json`: alipay.CodeInvalidParam,
	} {
		if r := post(t, s, mk, alipay.MethodPay, biz); r.Code != want {
			t.Errorf("trade.pay %s = %+v, want code %s", biz, r, want)
		}
	}
	if n := len(s.Ledger()); n != 0 {
		t.Errorf("%d entries booked by refused requests", n)
	}
	if r := post(t, s, mk, alipay.MethodRefundQuery, `{"out_trade_no":"NONE","out_request_no":"R1"}`); r.SubCode != alipay.SubTradeNotExist {
		t.Errorf("refund query of an unknown trade = %+v", r)
	}
}

func TestAdmin(t *testing.T) {
	s, mk := start(t)
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
	if r := post(t, s, mk, alipay.MethodPay, `{"out_trade_no":"P2","scene":"bar_code","auth_code":"283456789012345678","subject":"x","total_amount":"1.00"}`); r.Code != alipay.CodeUserPaying {
		t.Fatalf("trade.pay under user_paying answered %+v", r)
	}
	resp, err = http.Get(s.AdminURL() + "/ledger")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var entries []alisim.Entry
	if err := json.NewDecoder(resp.Body).Decode(&entries); err != nil || len(entries) != 1 || entries[0].Status != alipay.StatusWaitBuyerPay || entries[0].MaskedCode != "2834**********5678" {
		t.Errorf("GET /ledger = %+v, %v", entries, err)
	}
}
