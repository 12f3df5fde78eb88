package channels

import (
	"context"

	"github.com/posrt/posrt/plugins/base"
	channelspb "github.com/posrt/posrt/plugins/channels/proto"
)

type walletClient struct {
	base.BaseClient
	c channelspb.WalletClient
}

var _ Wallet = (*walletClient)(nil)

func tradeReply(t *channelspb.Trade, err error) (Trade, error) {
	if err != nil {
		return Trade{}, base.FromStatus(err, walletSentinels)
	}
	return tradeFromProto(t), nil
}

func refundReply(r *channelspb.WalletRefund, err error) (WalletRefund, error) {
	if err != nil {
		return WalletRefund{}, base.FromStatus(err, walletSentinels)
	}
	return walletRefundFromProto(r), nil
}

func (c *walletClient) Pay(ctx context.Context, req PayRequest) (Trade, error) {
	return tradeReply(c.c.Pay(ctx, &channelspb.PayRequest{
		Key: walletKeyToProto(req.Key), OrderNo: req.OrderNo, Amount: req.Amount, AuthCode: req.AuthCode, Subject: req.Subject,
	}))
}

func (c *walletClient) Query(ctx context.Context, req OrderRequest) (Trade, error) {
	return tradeReply(c.c.Query(ctx, &channelspb.OrderRequest{Key: walletKeyToProto(req.Key), OrderNo: req.OrderNo}))
}

func (c *walletClient) Cancel(ctx context.Context, req OrderRequest) (Trade, error) {
	return tradeReply(c.c.Cancel(ctx, &channelspb.OrderRequest{Key: walletKeyToProto(req.Key), OrderNo: req.OrderNo}))
}

func (c *walletClient) Refund(ctx context.Context, req WalletRefundRequest) (WalletRefund, error) {
	return refundReply(c.c.Refund(ctx, &channelspb.WalletRefundRequest{
		Key: walletKeyToProto(req.Key), OrderNo: req.OrderNo, RefundNo: req.RefundNo, Amount: req.Amount, Total: req.Total,
	}))
}

func (c *walletClient) RefundQuery(ctx context.Context, req RefundQueryRequest) (WalletRefund, error) {
	return refundReply(c.c.RefundQuery(ctx, &channelspb.RefundQueryRequest{
		Key: walletKeyToProto(req.Key), OrderNo: req.OrderNo, RefundNo: req.RefundNo,
	}))
}

var _ Reconciler = (*walletClient)(nil)

// Reconcile implements Reconciler; call it only on a wallet whose Info
// lists CapabilityReconcile (another answers codes.Unimplemented).
func (c *walletClient) Reconcile(ctx context.Context, req ReconcileRequest) (Reconciliation, error) {
	r, err := c.c.Reconcile(ctx, reconcileRequestToProto(req))
	if err != nil {
		return Reconciliation{}, base.FromStatus(err, walletSentinels)
	}
	return reconciliationFromProto(r), nil
}
