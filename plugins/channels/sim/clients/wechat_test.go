package clients_test

import (
	"context"
	"testing"

	"github.com/go-pay/gopay"
	gowechat "github.com/go-pay/gopay/wechat"

	wxsim "github.com/posrt/posrt/plugins/channels/sim/wechat"
	"github.com/posrt/posrt/plugins/channels/wechat"
)

// The merchant of WeChat Pay's published signing example.
const (
	wxAppID = "wxd930ea5d5a258f4f"
	wxMchID = "10000100"
	wxKey   = "192006250b4c09247ec02edce69f6a2d"
)

// startWeChat starts a simulator serving the example merchant, amounts of
// 20.00 yuan user-paying (two queries), and returns it with a gopay client
// aimed at it through the client's exported BaseURL only.
func startWeChat(t *testing.T) (*wxsim.Server, *gowechat.Client) {
	t.Helper()
	s, err := wxsim.Serve(context.Background(), wxsim.Config{
		Merchants:  []wxsim.Merchant{{AppID: wxAppID, MchID: wxMchID, Key: wxKey}},
		UserPaying: []int64{2000},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	c := gowechat.NewClient(wxAppID, wxMchID, wxKey, true)
	c.BaseURL = s.Addr()
	return s, c
}

var wxSignTypes = []string{gowechat.SignType_MD5, gowechat.SignType_HMAC_SHA256}

// request is a BodyMap with a fresh nonce_str and, for HMAC-SHA256, the
// sign_type (MD5 is the default WeChat assumes when it is absent).
func request(signType string) gopay.BodyMap {
	bm := make(gopay.BodyMap)
	bm.Set("nonce_str", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS")
	if signType != gowechat.SignType_MD5 {
		bm.Set("sign_type", signType)
	}
	return bm
}

func micropay(signType, outTradeNo string, fen int64, code string) gopay.BodyMap {
	return request(signType).Set("body", "image形象店-深圳腾大- QQ公仔").Set("out_trade_no", outTradeNo).
		Set("total_fee", fen).Set("spbill_create_ip", "127.0.0.1").Set("auth_code", code)
}

// verified fails the test unless gopay's own verifier accepts answer's
// sign under the merchant's key, and rejects it under another key (so a
// pass is not vacuous).
func verified(t *testing.T, what, signType string, answer func() any) {
	t.Helper()
	if ok, err := gowechat.VerifySign(wxKey, signType, answer()); err != nil || !ok {
		t.Errorf("%s: gopay.VerifySign(%s) = %v, %v", what, signType, ok, err)
	}
	if ok, _ := gowechat.VerifySign("00000000000000000000000000000000", signType, answer()); ok {
		t.Errorf("%s: the answer verifies under another key too", what)
	}
}

// A micropay paid, queried, partly refunded and the refund queried, then
// a second order reversed: all through gopay, each answer verified by
// gopay, for both sign types; the simulator's books agree.
func TestWeChatLifecycle(t *testing.T) {
	ctx := context.Background()
	s, c := startWeChat(t)
	for i, st := range wxSignTypes {
		no, no2 := []string{"GP-MD5-1", "GP-HMAC-1"}[i], []string{"GP-MD5-2", "GP-HMAC-2"}[i]
		pay, err := c.Micropay(ctx, micropay(st, no, 1000, s.IssueCode()))
		if err != nil {
			t.Fatalf("%s micropay: %v", st, err)
		}
		if pay.ReturnCode != "SUCCESS" || pay.ResultCode != "SUCCESS" || pay.TotalFee != "1000" || pay.CashFee != "1000" ||
			pay.OutTradeNo != no || pay.TransactionId == "" || pay.TimeEnd == "" || pay.Appid != wxAppID || pay.MchId != wxMchID {
			t.Fatalf("%s micropay answered %+v", st, pay)
		}
		verified(t, st+" micropay", st, func() any { return *pay })

		q, qbm, err := c.QueryOrder(ctx, request(st).Set("out_trade_no", no))
		if err != nil {
			t.Fatalf("%s orderquery: %v", st, err)
		}
		if q.ResultCode != "SUCCESS" || q.TradeState != "SUCCESS" || q.TotalFee != "1000" || q.TransactionId != pay.TransactionId {
			t.Errorf("%s orderquery answered %+v", st, q)
		}
		verified(t, st+" orderquery", st, func() any { return cloneBM(qbm) })

		rf, rbm, err := c.Refund(ctx, request(st).Set("out_trade_no", no).Set("out_refund_no", no+"-R1").
			Set("total_fee", 1000).Set("refund_fee", 300))
		if err != nil {
			t.Fatalf("%s refund: %v", st, err)
		}
		if rf.ResultCode != "SUCCESS" || rf.RefundFee != "300" || rf.TotalFee != "1000" || rf.OutRefundNo != no+"-R1" ||
			rf.RefundId == "" || rf.TransactionId != pay.TransactionId {
			t.Errorf("%s refund answered %+v", st, rf)
		}
		verified(t, st+" refund", st, func() any { return cloneBM(rbm) })

		rq, rqbm, err := c.QueryRefund(ctx, request(st).Set("out_refund_no", no+"-R1"))
		if err != nil {
			t.Fatalf("%s refundquery: %v", st, err)
		}
		if rq.ResultCode != "SUCCESS" || rq.RefundCount != "1" || rq.RefundFee != "300" || rqbm.GetString("refund_fee_0") != "300" ||
			rqbm.GetString("refund_status_0") != "SUCCESS" || rqbm.GetString("refund_id_0") != rf.RefundId {
			t.Errorf("%s refundquery answered %v", st, rqbm)
		}
		verified(t, st+" refundquery", st, func() any { return cloneBM(rqbm) })

		if tr, ok := s.Trade(wxMchID, no); !ok || !tr.Paid || tr.Amount != 1000 || tr.Refunded != 300 || tr.Refunds != 1 || tr.State != wechat.StateRefund {
			t.Errorf("%s: the simulator holds %+v, %v; want paid 1000 fen, 300 refunded once", st, tr, ok)
		}

		// Reverse (a /secapi/ path): gopay sends it on its TLS client,
		// which has no client certificate here; the simulator, plain
		// HTTP, asks for none.
		if _, err := c.Micropay(ctx, micropay(st, no2, 555, s.IssueCode())); err != nil {
			t.Fatal(err)
		}
		rv, err := c.Reverse(ctx, request(st).Set("out_trade_no", no2))
		if err != nil {
			t.Fatalf("%s reverse: %v", st, err)
		}
		if rv.ResultCode != "SUCCESS" || rv.Recall != "N" {
			t.Errorf("%s reverse answered %+v", st, rv)
		}
		verified(t, st+" reverse", st, func() any { return *rv })
		if tr, _ := s.Trade(wxMchID, no2); tr.State != wechat.StateRevoked || !tr.Paid || tr.Amount != 555 {
			t.Errorf("%s: reversed order held as %+v; want a paid 555 fen order REVOKED", st, tr)
		}
		if n := countOps(s.Ledger(), wxsim.OpReverse, no2); n != 1 {
			t.Errorf("%s: %d reverse entries in the ledger for %s; want 1", st, n, no2)
		}
		// A refunded order cannot be reversed.
		if rv, err := c.Reverse(ctx, request(st).Set("out_trade_no", no)); err != nil || rv.ErrCode != string(wechat.CodeTradeError) {
			t.Errorf("%s reverse of a refunded order answered %+v, %v", st, rv, err)
		}
	}
}

func countOps(entries []wxsim.Entry, op wxsim.Op, outTradeNo string) int {
	n := 0
	for _, e := range entries {
		if e.Op == op && e.OutTradeNo == outTradeNo {
			n++
		}
	}
	return n
}

// cloneBM copies bm: gopay's VerifySign removes the sign from the map it
// is given.
func cloneBM(bm gopay.BodyMap) gopay.BodyMap {
	c := make(gopay.BodyMap, len(bm))
	for k, v := range bm {
		c[k] = v
	}
	return c
}

// A declined code (an amount ending 51), a USERPAYING order paid after two
// queries, and a code used twice, each answered in a form gopay reads and
// verifies.
func TestWeChatRefusals(t *testing.T) {
	ctx := context.Background()
	s, c := startWeChat(t)
	for i, st := range wxSignTypes {
		sfx := []string{"M", "H"}[i]
		dec, err := c.Micropay(ctx, micropay(st, "GP-DEC-"+sfx, 1051, s.IssueCode()))
		if err != nil {
			t.Fatal(err)
		}
		if dec.ReturnCode != "SUCCESS" || dec.ResultCode != "FAIL" || dec.ErrCode != string(wechat.CodeNotEnough) || dec.TransactionId != "" {
			t.Errorf("%s declined micropay answered %+v", st, dec)
		}
		verified(t, st+" declined micropay", st, func() any { return *dec })
		if tr, ok := s.Trade(wxMchID, "GP-DEC-"+sfx); !ok || tr.Paid || tr.State != wechat.StatePayError {
			t.Errorf("%s: declined order held as %+v, %v", st, tr, ok)
		}

		code := s.IssueCode()
		up, err := c.Micropay(ctx, micropay(st, "GP-UP-"+sfx, 2000, code))
		if err != nil || up.ResultCode != "FAIL" || up.ErrCode != string(wechat.CodeUserPaying) {
			t.Fatalf("%s user-paying micropay answered %+v, %v", st, up, err)
		}
		verified(t, st+" USERPAYING", st, func() any { return *up })
		for n, want := range []string{"USERPAYING", "SUCCESS"} {
			q, qbm, err := c.QueryOrder(ctx, request(st).Set("out_trade_no", "GP-UP-"+sfx))
			if err != nil || q.TradeState != want {
				t.Fatalf("%s query %d of a user-paying order: %+v, %v; want %s", st, n+1, q, err, want)
			}
			verified(t, st+" orderquery "+want, st, func() any { return cloneBM(qbm) })
			if want == "SUCCESS" && (q.TotalFee != "2000" || q.CashFee != "2000" || q.TransactionId == "") {
				t.Errorf("%s paid user-paying order answered %+v", st, q)
			}
		}
		if tr, _ := s.Trade(wxMchID, "GP-UP-"+sfx); !tr.Paid || tr.State != wechat.StateSuccess {
			t.Errorf("%s: user-paying order held as %+v after it was paid", st, tr)
		}

		// The code just paid with is refused on a new order, nothing booked.
		used, err := c.Micropay(ctx, micropay(st, "GP-USED-"+sfx, 300, code))
		if err != nil || used.ResultCode != "FAIL" || used.ErrCode != string(wechat.CodeAuthCodeExpire) {
			t.Errorf("%s micropay with a used code answered %+v, %v", st, used, err)
		}
		verified(t, st+" used code", st, func() any { return *used })
		if _, ok := s.Trade(wxMchID, "GP-USED-"+sfx); ok {
			t.Errorf("%s: an order was booked for a used code", st)
		}
	}
}

// A gopay client holding the wrong key is refused at the return_code
// level, so the simulator does check what gopay signs.
func TestWeChatWrongKey(t *testing.T) {
	s, _ := startWeChat(t)
	bad := gowechat.NewClient(wxAppID, wxMchID, "ffffffffffffffffffffffffffffffff", true)
	bad.BaseURL = s.Addr()
	for _, st := range wxSignTypes {
		a, err := bad.Micropay(context.Background(), micropay(st, "GP-BAD-"+st[:3], 100, s.IssueCode()))
		if err != nil {
			t.Fatal(err)
		}
		if a.ReturnCode != "FAIL" || a.ReturnMsg != "签名错误" || a.Sign != "" {
			t.Errorf("%s micropay signed with the wrong key answered %+v", st, a)
		}
	}
	if n := len(s.Ledger()); n != 0 {
		t.Errorf("%d ledger entries after badly signed requests", n)
	}
}

// WeChat takes transaction_id in place of out_trade_no in orderquery,
// refund and refundquery ("二选一"), as gopay lets a client send: an order
// paid is found, refunded, and its refund listed by WeChat's number alone,
// and an unknown one is ORDERNOTEXIST. (Reverse requires out_trade_no, in
// WeChat's rules and in gopay.)
func TestWeChatByTransactionID(t *testing.T) {
	ctx := context.Background()
	s, c := startWeChat(t)
	st := gowechat.SignType_HMAC_SHA256
	pay, err := c.Micropay(ctx, micropay(st, "GP-TXN-1", 1200, s.IssueCode()))
	if err != nil || pay.TransactionId == "" {
		t.Fatalf("micropay: %+v, %v", pay, err)
	}
	txn := pay.TransactionId
	q, qbm, err := c.QueryOrder(ctx, request(st).Set("transaction_id", txn))
	if err != nil || q.TradeState != "SUCCESS" || q.OutTradeNo != "GP-TXN-1" || q.TotalFee != "1200" {
		t.Fatalf("orderquery by transaction_id: %+v, %v", q, err)
	}
	verified(t, "orderquery by transaction_id", st, func() any { return cloneBM(qbm) })
	rf, _, err := c.Refund(ctx, request(st).Set("transaction_id", txn).Set("out_refund_no", "GP-TXN-1-R1").Set("total_fee", 1200).Set("refund_fee", 200))
	if err != nil || rf.ResultCode != "SUCCESS" || rf.OutTradeNo != "GP-TXN-1" || rf.RefundFee != "200" {
		t.Fatalf("refund by transaction_id: %+v, %v", rf, err)
	}
	rq, rqbm, err := c.QueryRefund(ctx, request(st).Set("transaction_id", txn))
	if err != nil || rq.ResultCode != "SUCCESS" || rqbm.GetString("out_refund_no_0") != "GP-TXN-1-R1" {
		t.Fatalf("refundquery by transaction_id: %v, %v", rqbm, err)
	}
	if tr, _ := s.Trade(wxMchID, "GP-TXN-1"); tr.Refunded != 200 {
		t.Errorf("order held as %+v; want 200 fen refunded", tr)
	}
	if q, _, err := c.QueryOrder(ctx, request(st).Set("transaction_id", "4200000000000000000000000000")); err != nil || q.ErrCode != string(wechat.CodeOrderNotExist) {
		t.Errorf("orderquery of an unknown transaction_id: %+v, %v", q, err)
	}
}

// Under the simulator's bad_sign fault gopay's verifier rejects the
// answer: what these tests call verified is a real check.
func TestWeChatBadSignFault(t *testing.T) {
	s, c := startWeChat(t)
	for i, st := range wxSignTypes {
		if err := s.InjectFault(wxsim.Fault{Kind: wxsim.FaultBadSign}); err != nil {
			t.Fatal(err)
		}
		a, err := c.Micropay(context.Background(), micropay(st, []string{"GP-BS-M", "GP-BS-H"}[i], 100, s.IssueCode()))
		if err != nil || a.ResultCode != "SUCCESS" {
			t.Fatalf("%s micropay under bad_sign: %+v, %v", st, a, err)
		}
		if ok, _ := gowechat.VerifySign(wxKey, st, *a); ok {
			t.Errorf("%s: gopay verified an answer whose sign the simulator corrupted", st)
		}
	}
}
