package channelstest

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/walletfake"
)

// codeOf returns the i-th test payment code of wallet w; seed keeps the
// codes of one run apart from another's.
func codeOf(w walletfake.Wallet, seed, i int) string {
	switch w {
	case walletfake.Alipay:
		return fmt.Sprintf("28%06d%010d", seed, i)
	case walletfake.UnionPayQR:
		return fmt.Sprintf("62%07d%010d", seed, i)
	}
	return fmt.Sprintf("13%06d%010d", seed, i)
}

func walletHarness(w walletfake.Wallet, ledger string, wrap func(*walletfake.Fake) channels.Wallet) WalletHarness {
	foreign := map[walletfake.Wallet]walletfake.Wallet{walletfake.WeChat: walletfake.Alipay, walletfake.Alipay: walletfake.UnionPayQR, walletfake.UnionPayQR: walletfake.WeChat}[w]
	return WalletHarness{
		New: func(t *testing.T) channels.Wallet {
			f := walletfake.New(walletfake.WeChat)
			t.Cleanup(func() { _ = f.Close() })
			if wrap != nil {
				return wrap(f)
			}
			return f
		},
		Config:           map[string]string{"wallet": string(w), "ledger": ledger, "user_paying": "1700", "user_paying_for": "2", "lose_response": "1900"},
		AuthCode:         func(i int) string { return codeOf(w, 1, i) },
		ForeignCode:      codeOf(foreign, 9, 1),
		UserPayingAmount: 1700,
		LoseAmount:       1900,
	}
}

func TestWalletConformance(t *testing.T) {
	for _, w := range walletfake.Wallets {
		for _, file := range []bool{true, false} {
			name := string(w) + "/MemoryLedger"
			if file {
				name = string(w) + "/FileLedger"
			}
			t.Run(name, func(t *testing.T) {
				ledger := ""
				if file {
					ledger = filepath.Join(t.TempDir(), "wallet", "ledger.jsonl")
				}
				RunWalletConformance(t, walletHarness(w, ledger, nil))
			})
		}
	}
}

// brokenWallet wraps the fake with one method misbehaving.
type brokenWallet struct {
	*walletfake.Fake
	pay    func(context.Context, channels.PayRequest) (channels.Trade, error)
	refund func(context.Context, channels.WalletRefundRequest) (channels.WalletRefund, error)
	cancel func(context.Context, channels.OrderRequest) (channels.Trade, error)
	recon  func(context.Context, channels.ReconcileRequest) (channels.Reconciliation, error)
}

func (b *brokenWallet) Reconcile(ctx context.Context, req channels.ReconcileRequest) (channels.Reconciliation, error) {
	if b.recon != nil {
		return b.recon(ctx, req)
	}
	return b.Fake.Reconcile(ctx, req)
}

func (b *brokenWallet) Pay(ctx context.Context, req channels.PayRequest) (channels.Trade, error) {
	if b.pay != nil {
		return b.pay(ctx, req)
	}
	return b.Fake.Pay(ctx, req)
}

func (b *brokenWallet) Refund(ctx context.Context, req channels.WalletRefundRequest) (channels.WalletRefund, error) {
	if b.refund != nil {
		return b.refund(ctx, req)
	}
	return b.Fake.Refund(ctx, req)
}

func (b *brokenWallet) Cancel(ctx context.Context, req channels.OrderRequest) (channels.Trade, error) {
	if b.cancel != nil {
		return b.cancel(ctx, req)
	}
	return b.Fake.Cancel(ctx, req)
}

func TestWalletConformanceFailsBrokenWallets(t *testing.T) {
	broken := func(wrap func(f *walletfake.Fake) *brokenWallet) WalletHarness {
		return walletHarness(walletfake.WeChat, "", func(f *walletfake.Fake) channels.Wallet { return wrap(f) })
	}
	basetest.RunBroken(t, "a wallet", map[string]basetest.Broken[WalletHarness]{
		"PaysTwiceOnARetriedOrderNo": {Step: "PayRetryIsIdempotent", Harness: broken(func(f *walletfake.Fake) *brokenWallet {
			var n atomic.Int64
			return &brokenWallet{Fake: f, pay: func(ctx context.Context, req channels.PayRequest) (channels.Trade, error) {
				// Each attempt becomes a new order with a fresh code: a double charge.
				i := n.Add(1)
				orderNo := req.OrderNo
				req.OrderNo = fmt.Sprintf("%s%d", req.OrderNo, i)
				req.AuthCode = codeOf(walletfake.WeChat, 7, int(i))
				tr, err := f.Pay(ctx, req)
				tr.OrderNo = orderNo
				return tr, err
			}}
		})},
		"RefundsBeyondTheTotal": {Step: "Refund", Harness: broken(func(f *walletfake.Fake) *brokenWallet {
			return &brokenWallet{Fake: f, refund: func(ctx context.Context, req channels.WalletRefundRequest) (channels.WalletRefund, error) {
				r, err := f.Refund(ctx, req)
				if err == nil && r.State == channels.RefundFailed && strings.Contains(r.Message, "exceeds") {
					r.State, r.Code, r.RefundID = channels.RefundSuccess, "", "9"+req.RefundNo
				}
				return r, err
			}}
		})},
		"RefundsTwiceOnARetriedRefundNo": {Step: "Refund", Harness: broken(func(f *walletfake.Fake) *brokenWallet {
			var n atomic.Int64
			return &brokenWallet{Fake: f, refund: func(ctx context.Context, req channels.WalletRefundRequest) (channels.WalletRefund, error) {
				req.RefundNo = fmt.Sprintf("%s%d", req.RefundNo, n.Add(1))
				return f.Refund(ctx, req)
			}}
		})},
		"CancelDoesNothing": {Step: "CancelUserPaying", Harness: broken(func(f *walletfake.Fake) *brokenWallet {
			return &brokenWallet{Fake: f, cancel: func(ctx context.Context, req channels.OrderRequest) (channels.Trade, error) {
				tr, err := f.Query(ctx, req)
				if err == nil {
					tr.State = channels.TradeRevoked
				}
				return tr, err
			}}
		})},
		"ReconcileAlwaysBalanced": {Step: "Reconcile", Harness: broken(func(f *walletfake.Fake) *brokenWallet {
			return &brokenWallet{Fake: f, recon: func(ctx context.Context, req channels.ReconcileRequest) (channels.Reconciliation, error) {
				r, err := f.Reconcile(ctx, req)
				r.Balanced, r.Differences = true, nil
				return r, err
			}}
		})},
		"ReconcileMissesUnlistedOrders": {Step: "Reconcile", Harness: broken(func(f *walletfake.Fake) *brokenWallet {
			return &brokenWallet{Fake: f, recon: func(ctx context.Context, req channels.ReconcileRequest) (channels.Reconciliation, error) {
				r, err := f.Reconcile(ctx, req)
				var kept []channels.ReconcileDifference
				for _, d := range r.Differences {
					if d.Terminal != 0 || d.Kind != channels.ReconcileSale {
						kept = append(kept, d)
					}
				}
				r.Differences, r.Balanced = kept, len(kept) == 0
				return r, err
			}}
		})},
	}, RunWalletConformance)
}
