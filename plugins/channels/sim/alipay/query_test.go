package alisim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/posrt/posrt/plugins/channels/alipay"
	alisim "github.com/posrt/posrt/plugins/channels/sim/alipay"
)

// queryFields are the members of Alipay's alipay_trade_query_response a
// bar-code trade can carry: the common code, msg, sub_code and sub_msg
// and the json names of gopay v1.5.115's alipay.TradeQuery (there is no
// refund_fee: only trade.refund's answer has the refunded total).
var queryFields = map[string]bool{
	"code": true, "msg": true, "sub_code": true, "sub_msg": true,
	"trade_no": true, "out_trade_no": true, "buyer_logon_id": true, "trade_status": true, "total_amount": true,
	"trans_currency": true, "settle_currency": true, "settle_amount": true, "pay_currency": true, "pay_amount": true,
	"settle_trans_rate": true, "trans_pay_rate": true, "buyer_pay_amount": true, "point_amount": true,
	"invoice_amount": true, "send_pay_date": true, "receipt_amount": true, "store_id": true, "terminal_id": true,
	"fund_bill_list": true, "store_name": true, "buyer_user_id": true, "buyer_open_id": true,
	"charge_amount": true, "charge_flags": true, "settlement_id": true, "subject": true, "body": true,
}

// rawQuery sends trade.query of no and returns the members of the answer
// object, its signature checked.
func rawQuery(t *testing.T, s *alisim.Server, mk []byte, no string) map[string]json.RawMessage {
	t.Helper()
	key, err := alipay.ParsePrivateKey(mk)
	if err != nil {
		t.Fatal(err)
	}
	p := alipay.Params{"app_id": appID, "method": string(alipay.MethodQuery), "charset": "utf-8", "sign_type": "RSA2", "timestamp": "2026-08-20 10:30:00", "version": "1.0", "biz_content": `{"out_trade_no":"` + no + `"}`}
	if err := p.Sign(key); err != nil {
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
	if _, err := alipay.ParseResponse(b, alipay.MethodQuery, s.PublicKey()); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	var env map[string]json.RawMessage
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &env); err != nil || json.Unmarshal(env[alipay.MethodQuery.ResponseKey()], &obj) != nil {
		t.Fatalf("answer %s", b)
	}
	return obj
}

// trade.query answers Alipay's field set only: refunded in part the
// trade stays TRADE_SUCCESS, refunded in full it is TRADE_CLOSED with its
// send_pay_date, and no answer carries a refunded amount.
func TestQueryFieldSet(t *testing.T) {
	s, mk := start(t)
	pem := alipay.EncodePrivateKey(mk)
	if r := post(t, s, mk, alipay.MethodPay, `{"out_trade_no":"Q1","scene":"bar_code","auth_code":"28763443825664394","subject":"x","total_amount":"10.00"}`); r.Code != alipay.CodeSuccess {
		t.Fatalf("trade.pay = %+v", r)
	}
	check := func(what string, status alipay.TradeStatus) {
		t.Helper()
		obj := rawQuery(t, s, pem, "Q1")
		for k := range obj {
			if !queryFields[k] {
				t.Errorf("trade.query %s carries %s, which Alipay's answer has not", what, k)
			}
		}
		var got alipay.TradeStatus
		_ = json.Unmarshal(obj["trade_status"], &got)
		if got != status || obj["send_pay_date"] == nil {
			t.Errorf("trade.query %s = %s, want %s with send_pay_date", what, obj, status)
		}
	}
	check("when paid", alipay.StatusTradeSuccess)
	if r := post(t, s, mk, alipay.MethodRefund, `{"out_trade_no":"Q1","out_request_no":"R1","refund_amount":"3.00"}`); r.Code != alipay.CodeSuccess || r.RefundFee != "3.00" {
		t.Fatalf("trade.refund = %+v, want refund_fee 3.00 (trade.refund does carry it)", r)
	}
	check("refunded in part", alipay.StatusTradeSuccess)
	if r := post(t, s, mk, alipay.MethodRefund, `{"out_trade_no":"Q1","out_request_no":"R2","refund_amount":"7.00"}`); r.Code != alipay.CodeSuccess || r.RefundFee != "10.00" {
		t.Fatalf("trade.refund = %+v, want refund_fee 10.00", r)
	}
	check("refunded in full", alipay.StatusTradeClosed)
}
