package unionpayqr_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/channelstest"
	upqrsim "github.com/posrt/posrt/plugins/channels/sim/unionpayqr"
	"github.com/posrt/posrt/plugins/channels/unionpayqr"
)

// BenchmarkPayRoundTrip is a pay through the plugin (called in process) to
// the simulator on loopback over HTTP keep-alive: build, sign (SHA-256
// hex, then SHA256withRSA), send, verify the request, book (ledger in
// memory), sign the answer, verify the answer's certificate (cached after
// the first) and signature. Two RSA-2048 signatures dominate it.
func BenchmarkPayRoundTrip(b *testing.B) {
	sim, _ := startSim(b, func(c *upqrsim.Config) { c.Ledger = "" })
	w := unionpayqr.New()
	if err := w.Configure(context.Background(), channels.WalletAPIVersion1, pluginConfig(b, sim, nil)); err != nil {
		b.Fatal(err)
	}
	tm := &terminal{}
	reqs := make([]channels.PayRequest, b.N)
	for i := range reqs {
		reqs[i] = tm.pay(1000)
		reqs[i].OrderNo = fmt.Sprintf("PBENCH%010d", i)
		reqs[i].AuthCode = fmt.Sprintf("62%017d", i)
	}
	b.ResetTimer()
	for i := range reqs {
		tr, err := w.Pay(context.Background(), reqs[i])
		if err != nil || tr.State != channels.TradeSuccess {
			b.Fatalf("pay = %+v, %v", tr, err)
		}
	}
}

// BenchmarkLoopbackHTTP is the floor under BenchmarkPayRoundTrip: a form
// POST of a pay request's size answered with a body of a pay answer's
// size (its signing certificate included), on loopback over keep-alive,
// with no signing, verifying or booking.
func BenchmarkLoopbackHTTP(b *testing.B) {
	p := certs(b)
	sig := string(bytes.Repeat([]byte("A"), 344))
	req := url.Values{}
	for k, v := range map[string]string{"version": "5.1.0", "encoding": "UTF-8", "signMethod": "01", "txnType": "01", "txnSubType": "06", "bizType": "000000",
		"channelType": "08", "accessType": "0", "merId": testMerID, "certId": p.merchant.SerialNumber.String(), "orderId": "P10000001000001000001",
		"txnTime": "20261201103000", "txnAmt": "1000", "currencyCode": "156", "qrNo": authCode(1), "termId": "10000001", "signature": sig} {
		req.Set(k, v)
	}
	reqBody := []byte(req.Encode())
	ans := unionpayqr.Fields{"version": "5.1.0", "encoding": "UTF-8", "signMethod": "01", "txnType": "01", "txnSubType": "06", "bizType": "000000",
		"accessType": "0", "merId": testMerID, "orderId": "P10000001000001000001", "txnTime": "20261201103000", "txnAmt": "1000", "currencyCode": "156",
		"queryId": "202612011030000000001", "settleDate": "1201", "traceTime": "1201103000", "respCode": "00", "respMsg": "成功",
		"certId": p.signing.SerialNumber.String(), "signPubKeyCert": string(unionpayqr.EncodeCertificate(p.signing)), "signature": sig}
	ansBody := ans.Encode()
	channelstest.BenchLoopbackHTTP(b, unionpayqr.PathBackTrans, "application/x-www-form-urlencoded", reqBody, ansBody)
}
