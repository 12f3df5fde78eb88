package wxsim_test

import (
	"testing"

	"github.com/posrt/posrt/plugins/channels/wechat"
)

// orderqueryFields are the xml names of gopay v1.5.115's
// wechat.QueryOrderResponse, WeChat Pay's orderquery answer (it has no
// refunded amount: trade_state REFUND says a refund was made, refundquery
// has the amounts); sign_type is the request's, echoed.
var orderqueryFields = map[string]bool{
	"return_code": true, "return_msg": true, "appid": true, "sub_appid": true, "mch_id": true, "sub_mch_id": true,
	"nonce_str": true, "sign": true, "sign_type": true, "result_code": true, "err_code": true, "err_code_des": true,
	"device_info": true, "openid": true, "is_subscribe": true, "sub_openid": true, "sub_is_subscribe": true,
	"trade_type": true, "trade_state": true, "bank_type": true, "total_fee": true, "settlement_total_fee": true,
	"fee_type": true, "cash_fee": true, "cash_fee_type": true, "coupon_fee": true, "coupon_count": true,
	"transaction_id": true, "out_trade_no": true, "attach": true, "time_end": true, "trade_state_desc": true,
}

// orderquery answers WeChat's field set only, before and after a refund
// (then trade_state REFUND), and refundquery has the refund's amount.
func TestOrderqueryFieldSet(t *testing.T) {
	s := start(t)
	req := func(f wechat.Fields) []byte {
		f["appid"], f["mch_id"], f["nonce_str"] = appID, mchID, "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
		return signed(f, wechat.SignMD5)
	}
	if a := post(t, s, wechat.PathMicropay, req(wechat.Fields{"body": "x", "out_trade_no": "Q1", "total_fee": "1000", "spbill_create_ip": "8.8.8.8", "auth_code": "120061098828009406"})); a["result_code"] != "SUCCESS" {
		t.Fatalf("micropay = %v", a)
	}
	check := func(what string, state wechat.Code) {
		t.Helper()
		a := post(t, s, wechat.PathOrderQuery, req(wechat.Fields{"out_trade_no": "Q1"}))
		for k := range a {
			if !orderqueryFields[k] {
				t.Errorf("orderquery %s carries %s, which WeChat's answer has not", what, k)
			}
		}
		if a["trade_state"] != string(state) || a["time_end"] == "" || a["total_fee"] != "1000" {
			t.Errorf("orderquery %s = %v, want %s, paid 1000 fen", what, a, state)
		}
	}
	check("when paid", wechat.StateSuccess)
	if a := post(t, s, wechat.PathRefund, req(wechat.Fields{"out_trade_no": "Q1", "out_refund_no": "R1", "total_fee": "1000", "refund_fee": "300"})); a["result_code"] != "SUCCESS" {
		t.Fatalf("refund = %v", a)
	}
	check("refunded in part", wechat.StateRefund)
	if a := post(t, s, wechat.PathRefundQuery, req(wechat.Fields{"out_refund_no": "R1"})); a["refund_fee_0"] != "300" || a["refund_status_0"] != string(wechat.RefundStatusSuccess) {
		t.Errorf("refundquery = %v, want R1 of 300 fen", a)
	}
}
