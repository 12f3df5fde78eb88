package wechat_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/channelstest"
	wxsim "github.com/posrt/posrt/plugins/channels/sim/wechat"
	"github.com/posrt/posrt/plugins/channels/wechat"
)

// BenchmarkPayRoundTrip is a pay through the plugin (called in process) to
// the simulator on loopback over HTTP keep-alive: build, sign, send,
// check, book (ledger in memory), sign the answer, verify it.
func BenchmarkPayRoundTrip(b *testing.B) {
	sim, _ := startSim(b, func(c *wxsim.Config) { c.Ledger = "" })
	w := wechat.New()
	if err := w.Configure(context.Background(), channels.WalletAPIVersion1, pluginConfig(sim, nil)); err != nil {
		b.Fatal(err)
	}
	tm := &terminal{}
	reqs := make([]channels.PayRequest, b.N)
	for i := range reqs {
		reqs[i] = tm.pay(1000)
		reqs[i].OrderNo = fmt.Sprintf("PBENCH%010d", i) // more orders than a batch has traces
	}
	b.ResetTimer()
	for i := range reqs {
		tr, err := w.Pay(context.Background(), reqs[i])
		if err != nil || tr.State != channels.TradeSuccess {
			b.Fatalf("pay = %+v, %v", tr, err)
		}
	}
}

// BenchmarkLoopbackHTTP is the floor under BenchmarkPayRoundTrip: a POST
// of a micropay request's size answered with a body of a micropay
// answer's size, on loopback over keep-alive, with no XML, signing or
// booking.
func BenchmarkLoopbackHTTP(b *testing.B) {
	reqBody := wechat.Encode(wechat.Fields{"appid": testAppID, "mch_id": testMchID, "nonce_str": "01234567890123456789012345678901",
		"sign_type": "MD5", "body": "posrt test", "out_trade_no": "P10000001000001000001", "total_fee": "1000",
		"spbill_create_ip": "127.0.0.1", "auth_code": authCode(1), "device_info": "10000001", "sign": "9A0A8659F005D6984697E2CA0A9CF3B7"})
	ansBody := wechat.Encode(wechat.Fields{"return_code": "SUCCESS", "return_msg": "OK", "result_code": "SUCCESS", "appid": testAppID,
		"mch_id": testMchID, "nonce_str": "0123456789012345", "out_trade_no": "P10000001000001000001", "transaction_id": "4200202608200000000000000001",
		"total_fee": "1000", "cash_fee": "1000", "fee_type": "CNY", "trade_type": "MICROPAY", "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
		"is_subscribe": "N", "bank_type": "OTHERS", "time_end": "20260820103000", "device_info": "10000001", "sign": "9A0A8659F005D6984697E2CA0A9CF3B7"})
	channelstest.BenchLoopbackHTTP(b, wechat.PathMicropay, "text/xml", reqBody, ansBody)
}
