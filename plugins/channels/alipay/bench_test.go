package alipay_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/alipay"
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
