package walletfake_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/channelstest"
	"github.com/posrt/posrt/plugins/channels/walletfake"
)

var ctx = context.Background()

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func newFake(t *testing.T, w walletfake.Wallet, cfg map[string]string) (*walletfake.Fake, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 8, 20, 10, 30, 0, 0, time.UTC)}
	f := walletfake.New(w)
	f.SetClock(c.now)
	if err := f.Configure(ctx, channels.WalletAPIVersion1, cfg); err != nil {
		t.Fatalf("Configure(%v): %v", cfg, err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f, c
}

var trace int

func key() channels.Key {
	trace++
	return channels.Key{TID: "10000001", MID: "898310048990001", Batch: "000001", Trace: fmt.Sprintf("%06d", trace)}
}

func payReq(amount int64, code string) channels.PayRequest {
	k := key()
	return channels.PayRequest{Key: k, OrderNo: k.OrderNo(), Amount: amount, AuthCode: code}
}

func mustPay(t *testing.T, w channels.Wallet, req channels.PayRequest) channels.Trade {
	t.Helper()
	tr, err := w.Pay(ctx, req)
	if err != nil {
		t.Fatalf("Pay %+v: %v", req, err)
	}
	return tr
}

func query(t *testing.T, w channels.Wallet, orderNo string) channels.Trade {
	t.Helper()
	tr, err := w.Query(ctx, channels.OrderRequest{OrderNo: orderNo})
	if err != nil {
		t.Fatalf("Query %s: %v", orderNo, err)
	}
	return tr
}

func refund(w channels.Wallet, orderNo, no string, amount int64) (channels.WalletRefund, error) {
	return w.Refund(ctx, channels.WalletRefundRequest{OrderNo: orderNo, RefundNo: no, Amount: amount})
}

func TestCodesPerWallet(t *testing.T) {
	tests := []struct {
		w      walletfake.Wallet
		good   []string
		bad    []string
		reason string // the code of a foreign payment code
	}{
		{walletfake.WeChat, []string{"134567890123456789", "104567890123456789", "164567890123456789"},
			[]string{"174567890123456789", "13456789012345678", "284567890123456789"}, "AUTH_CODE_INVALID"},
		{walletfake.Alipay, []string{"2812345678901234", "30123456789012345678901234567890"},
			[]string{"24123456789012345", "281234567890123", "134567890123456789"}, "ACQ.PAYMENT_AUTH_CODE_INVALID"},
		{walletfake.UnionPayQR, []string{"6212345678901234567"}, []string{"621234567890123456", "134567890123456789"}, "30"},
	}
	for _, tc := range tests {
		t.Run(string(tc.w), func(t *testing.T) {
			f, _ := newFake(t, tc.w, nil)
			for _, c := range tc.good {
				if tr := mustPay(t, f, payReq(100, c)); tr.State != channels.TradeSuccess {
					t.Errorf("code %s: %+v, want success", c, tr)
				}
			}
			for _, c := range tc.bad {
				req := payReq(100, c)
				if tr := mustPay(t, f, req); tr.State != channels.TradeNotPaid || tr.Code != tc.reason {
					t.Errorf("code %s: %+v, want not_paid %s", c, tr, tc.reason)
				}
				if q := query(t, f, req.OrderNo); q.State != channels.TradeNotFound {
					t.Errorf("order with refused code %s booked: %+v", c, q)
				}
			}
		})
	}
}

func TestDecline(t *testing.T) {
	f, _ := newFake(t, walletfake.WeChat, map[string]string{"decline": "51,61"})
	for amount, want := range map[int64]channels.TradeState{1251: channels.TradeNotPaid, 1261: channels.TradeNotPaid, 1250: channels.TradeSuccess} {
		req := payReq(amount, fmt.Sprintf("1300000000000%05d", amount))
		tr := mustPay(t, f, req)
		if tr.State != want || (want == channels.TradeNotPaid && tr.Code != "NOTENOUGH") {
			t.Errorf("pay of %d fen: %+v, want %s", amount, tr, want)
		}
	}
}

// The ledger carries trades, used codes and refunds across a restart, and
// holds no payment code.
func TestLedgerSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w", "ledger.jsonl")
	cfg := map[string]string{"wallet": "alipay", "ledger": path, "user_paying": "700", "user_paying_for": "never"}
	f, _ := newFake(t, walletfake.WeChat, cfg)
	code := "2812345678901234"
	a := payReq(10000, code)
	ta := mustPay(t, f, a)
	if _, err := refund(f, a.OrderNo, "RA1", 4000); err != nil {
		t.Fatal(err)
	}
	p := payReq(700, "2812345678900000")
	if tr := mustPay(t, f, p); tr.State != channels.TradeUserPaying || tr.Code != "10003" {
		t.Fatalf("user-paying pay = %+v", tr)
	}
	_ = f.Close()

	g, _ := newFake(t, walletfake.WeChat, cfg)
	if q := query(t, g, a.OrderNo); q.TradeNo != ta.TradeNo || q.State != channels.TradeRefunded || q.Refunded != 4000 {
		t.Errorf("trade after restart = %+v", q)
	}
	if tr := mustPay(t, g, a); tr.TradeNo != ta.TradeNo {
		t.Errorf("retried pay after restart = %+v, want trade %s", tr, ta.TradeNo)
	}
	if tr := mustPay(t, g, payReq(100, code)); tr.State != channels.TradeNotPaid {
		t.Errorf("used code accepted after restart: %+v", tr)
	}
	if r, err := refund(g, a.OrderNo, "RA1", 4000); err != nil || r.State != channels.RefundSuccess {
		t.Errorf("retried refund after restart = %+v, %v", r, err)
	}
	if r, _ := refund(g, a.OrderNo, "RA2", 6001); r.State != channels.RefundFailed || r.Code != "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL" {
		t.Errorf("over-refund after restart = %+v", r)
	}
	if q := query(t, g, p.OrderNo); q.State != channels.TradeUserPaying {
		t.Errorf("user-paying trade after restart = %+v", q)
	}
	if c, err := g.Cancel(ctx, channels.OrderRequest{OrderNo: p.OrderNo}); err != nil || c.State != channels.TradeClosed {
		t.Errorf("Cancel of a never-finishing trade = %+v, %v; want closed", c, err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), code) {
		t.Error("the ledger holds a clear payment code")
	}
	// A torn last line is cut, not fatal.
	if err := os.WriteFile(path, append(raw, []byte(`{"op":"pay","ord`)...), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = g.Close()
	h, _ := newFake(t, walletfake.WeChat, cfg)
	if q := query(t, h, a.OrderNo); q.TradeNo != ta.TradeNo {
		t.Errorf("trade after a torn line = %+v", q)
	}
}

func TestUserPayingForADuration(t *testing.T) {
	f, c := newFake(t, walletfake.WeChat, map[string]string{"user_paying": "500", "user_paying_for": "10s"})
	req := payReq(500, "131111111111111111")
	mustPay(t, f, req)
	for i := 0; i < 5; i++ {
		if q := query(t, f, req.OrderNo); q.State != channels.TradeUserPaying || q.Code != "USERPAYING" {
			t.Fatalf("query %d within 10 s = %+v", i, q)
		}
	}
	c.add(10 * time.Second)
	if q := query(t, f, req.OrderNo); q.State != channels.TradeSuccess || q.Paid != 500 {
		t.Errorf("query after 10 s = %+v, want success", q)
	}
}

func TestReverseAfter(t *testing.T) {
	f, c := newFake(t, walletfake.WeChat, map[string]string{"reverse_after": "15s"})
	req := payReq(800, "132222222222222222")
	mustPay(t, f, req)
	if tr, _ := f.Cancel(ctx, channels.OrderRequest{OrderNo: req.OrderNo}); tr.State != channels.TradeSuccess || tr.Code != "SYSTEMERROR" {
		t.Errorf("Cancel 0 s after the order = %+v, want it refused for now", tr)
	}
	c.add(15 * time.Second)
	if tr, _ := f.Cancel(ctx, channels.OrderRequest{OrderNo: req.OrderNo}); tr.State != channels.TradeRevoked {
		t.Errorf("Cancel 15 s after the order = %+v, want revoked", tr)
	}
}

func TestAtMost50RefundsOnWeChat(t *testing.T) {
	f, _ := newFake(t, walletfake.WeChat, nil)
	req := payReq(10000, "133333333333333333")
	mustPay(t, f, req)
	for i := 1; i <= 50; i++ {
		if r, err := refund(f, req.OrderNo, fmt.Sprintf("R%d", i), 10); err != nil || r.State != channels.RefundSuccess {
			t.Fatalf("refund %d = %+v, %v", i, r, err)
		}
	}
	if r, _ := refund(f, req.OrderNo, "R51", 10); r.State != channels.RefundFailed {
		t.Errorf("refund 51 = %+v, want failed", r)
	}
}

// Cancel of an order never received closes its number: a late pay is refused.
func TestCancelBeforePay(t *testing.T) {
	f, _ := newFake(t, walletfake.WeChat, nil)
	req := payReq(900, "134444444444444444")
	if c, err := f.Cancel(ctx, channels.OrderRequest{OrderNo: req.OrderNo}); err != nil || c.State != channels.TradeNotFound || c.Code != "ORDERNOTEXIST" {
		t.Fatalf("Cancel of an unknown order = %+v, %v", c, err)
	}
	if tr := mustPay(t, f, req); tr.State == channels.TradeSuccess || tr.Code != "ORDERREVERSED" {
		t.Errorf("pay after its cancel = %+v, want refused ORDERREVERSED", tr)
	}
}

// Sentinels survive gRPC; not_sent books nothing; lose_response books.
func TestErrorsOverGRPC(t *testing.T) {
	f, _ := newFake(t, walletfake.UnionPayQR, map[string]string{"not_sent": "300", "lose_response": "400"})
	w := channelstest.ConnectWallet(t, f)
	ns := payReq(300, "6211111111111111111")
	if _, err := w.Pay(ctx, ns); !errors.Is(err, channels.ErrNotSent) {
		t.Errorf("pay of 300 fen: %v, want ErrNotSent", err)
	}
	if q := query(t, w, ns.OrderNo); q.State != channels.TradeNotFound {
		t.Errorf("not-sent pay booked: %+v", q)
	}
	lost := payReq(400, "6222222222222222222")
	if _, err := w.Pay(ctx, lost); !errors.Is(err, channels.ErrNoAnswer) {
		t.Errorf("pay of 400 fen: %v, want ErrNoAnswer", err)
	}
	if q := query(t, w, lost.OrderNo); q.State != channels.TradeSuccess {
		t.Errorf("lost pay not booked: %+v", q)
	}
	dup := lost
	dup.Amount = 401
	if _, err := w.Pay(ctx, dup); !errors.Is(err, channels.ErrDuplicate) || !strings.Contains(err.Error(), "12") {
		t.Errorf("pay reusing an order number: %v, want ErrDuplicate with code 12", err)
	}
	if _, err := w.Pay(ctx, channels.PayRequest{OrderNo: "no spaces", Amount: 1}); !errors.Is(err, channels.ErrBadRequest) {
		t.Errorf("malformed order number: %v, want ErrBadRequest", err)
	}
	good := payReq(1000, "6233333333333333333")
	mustPay(t, w, good)
	if _, err := refund(w, good.OrderNo, "RX", 100); err != nil {
		t.Fatal(err)
	}
	if _, err := refund(w, good.OrderNo, "RX", 200); !errors.Is(err, channels.ErrDuplicate) {
		t.Errorf("refund number reused for another amount: %v, want ErrDuplicate", err)
	}
}

func TestCrashAfter(t *testing.T) {
	var exits basetest.Exits
	f := walletfake.New(walletfake.WeChat)
	f.SetExit(exits.Exit)
	if err := f.Configure(ctx, channels.WalletAPIVersion1, map[string]string{"crash_after": "2"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		_, _ = f.Query(ctx, channels.OrderRequest{OrderNo: "P1"})
	}
	if got := exits.Codes(); len(got) != 1 || got[0] != 2 {
		t.Errorf("exits = %v, want one exit 2 on the third call", got)
	}
}

func TestConfigRejected(t *testing.T) {
	for _, cfg := range []map[string]string{
		{"wallet": "paypal"}, {"user_paying_for": "soon"}, {"decline": "5"}, {"lose_response": "-1"},
		{"reverse_after": "x"}, {"max_refunds": "-2"}, {"colour": "red"}, {"memory": "-1h"}, {"memory": "2 days"},
	} {
		if err := walletfake.New(walletfake.WeChat).Configure(ctx, channels.WalletAPIVersion1, cfg); err == nil {
			t.Errorf("Configure(%v) accepted", cfg)
		}
	}
	f := walletfake.New(walletfake.Alipay)
	if info, _ := f.Info(ctx); info.Name != "fake-alipay" || info.Kind != "wallet" {
		t.Errorf("Info = %+v", info)
	}
}
