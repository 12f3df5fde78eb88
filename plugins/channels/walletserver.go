package channels

import (
	"context"

	"github.com/posrt/posrt/plugins/base"
	channelspb "github.com/posrt/posrt/plugins/channels/proto"
)

type walletServer struct {
	channelspb.UnimplementedWalletServer
	impl Wallet
}

func tradeAnswer(t Trade, err error) (*channelspb.Trade, error) {
	if err != nil {
		return nil, base.ToStatus(err, walletSentinels)
	}
	return tradeToProto(t), nil
}

func refundAnswer(r WalletRefund, err error) (*channelspb.WalletRefund, error) {
	if err != nil {
		return nil, base.ToStatus(err, walletSentinels)
	}
	return walletRefundToProto(r), nil
}

func (s *walletServer) Pay(ctx context.Context, req *channelspb.PayRequest) (*channelspb.Trade, error) {
	return tradeAnswer(s.impl.Pay(ctx, PayRequest{
		Key: walletKeyFromProto(req.GetKey()), OrderNo: req.GetOrderNo(), Amount: req.GetAmount(),
		AuthCode: req.GetAuthCode(), Subject: req.GetSubject(),
	}))
}

func (s *walletServer) Query(ctx context.Context, req *channelspb.OrderRequest) (*channelspb.Trade, error) {
	return tradeAnswer(s.impl.Query(ctx, OrderRequest{Key: walletKeyFromProto(req.GetKey()), OrderNo: req.GetOrderNo()}))
}

func (s *walletServer) Cancel(ctx context.Context, req *channelspb.OrderRequest) (*channelspb.Trade, error) {
	return tradeAnswer(s.impl.Cancel(ctx, OrderRequest{Key: walletKeyFromProto(req.GetKey()), OrderNo: req.GetOrderNo()}))
}

func (s *walletServer) Refund(ctx context.Context, req *channelspb.WalletRefundRequest) (*channelspb.WalletRefund, error) {
	return refundAnswer(s.impl.Refund(ctx, WalletRefundRequest{
		Key: walletKeyFromProto(req.GetKey()), OrderNo: req.GetOrderNo(), RefundNo: req.GetRefundNo(),
		Amount: req.GetAmount(), Total: req.GetTotal(),
	}))
}

func (s *walletServer) RefundQuery(ctx context.Context, req *channelspb.RefundQueryRequest) (*channelspb.WalletRefund, error) {
	return refundAnswer(s.impl.RefundQuery(ctx, RefundQueryRequest{
		Key: walletKeyFromProto(req.GetKey()), OrderNo: req.GetOrderNo(), RefundNo: req.GetRefundNo(),
	}))
}

// Reconcile serves Reconciler when the implementation has it.
func (s *walletServer) Reconcile(ctx context.Context, req *channelspb.ReconcileRequest) (*channelspb.Reconciliation, error) {
	r, ok := s.impl.(Reconciler)
	if !ok {
		return s.UnimplementedWalletServer.Reconcile(ctx, req)
	}
	rec, err := r.Reconcile(ctx, reconcileRequestFromProto(req))
	if err != nil {
		return nil, base.ToStatus(err, walletSentinels)
	}
	return reconciliationToProto(rec), nil
}
