package alipay_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/alipay"
	"github.com/posrt/posrt/plugins/channels/channelstest"
	alisim "github.com/posrt/posrt/plugins/channels/sim/alipay"
)

// BenchmarkPayRoundTrip is a pay through the plugin (called in process) to
// the simulator on loopback over HTTP keep-alive: build, sign RSA2, send,
// verify the request, book (ledger in memory), sign the answer, verify it.
// Two RSA-2048 signatures dominate it.
func BenchmarkPayRoundTrip(b *testing.B) {
	sim, _ := startSim(b, func(c *alisim.Config) { c.Ledger = "" })
	w := alipay.New()
	if err := w.Configure(context.Background(), channels.WalletAPIVersion1, pluginConfig(b, sim, nil)); err != nil {
		b.Fatal(err)
	}
	tm := &terminal{}
	reqs := make([]channels.PayRequest, b.N)
	for i := range reqs {
		reqs[i] = tm.pay(1000)
		reqs[i].OrderNo = fmt.Sprintf("PBENCH%010d", i)
		reqs[i].AuthCode = fmt.Sprintf("28%016d", i)
	}
	b.ResetTimer()
	for i := range reqs {
		tr, err := w.Pay(context.Background(), reqs[i])
		if err != nil || tr.State != channels.TradeSuccess {
			b.Fatalf("pay = %+v, %v", tr, err)
		}
	}
}

// BenchmarkLoopbackHTTP is the floor beside BenchmarkPayRoundTrip: a raw
// form POST of a signed trade.pay's size answered with a signed answer's
// size, nothing signed, parsed or booked.
func BenchmarkLoopbackHTTP(b *testing.B) {
	mk, gk := keys(b)
	biz := map[string]any{"out_trade_no": "P10000001000001000001", "scene": "bar_code", "auth_code": authCode(1), "subject": "posrt test", "total_amount": "10.00"}
	p, err := alipay.RequestParams(testAppID, alipay.MethodPay, biz, time.Now(), mk)
	if err != nil {
		b.Fatal(err)
	}
	form := url.Values{}
	for k, v := range p {
		form.Set(k, v)
	}
	ans, err := alipay.EncodeResponse(alipay.MethodPay, alipay.Response{Code: alipay.CodeSuccess, Msg: "Success", TradeNo: "2026120122001400000000000001",
		OutTradeNo: "P10000001000001000001", TotalAmount: "10.00", BuyerPayAmount: "10.00", GmtPayment: "2026-12-01 10:30:00"}, gk)
	if err != nil {
		b.Fatal(err)
	}
	channelstest.BenchLoopbackHTTP(b, "/gateway.do", "application/x-www-form-urlencoded;charset=utf-8", []byte(form.Encode()), ans)
}
