package channels

import (
	"context"

	"github.com/posrt/posrt/plugins/base"
	channelspb "github.com/posrt/posrt/plugins/channels/proto"
)

type server struct {
	channelspb.UnimplementedChannelServer
	impl Channel
}

func answer(r Response, err error) (*channelspb.Response, error) {
	if err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return responseToProto(r), nil
}

func (s *server) SignIn(ctx context.Context, req *channelspb.SignInRequest) (*channelspb.SignInResponse, error) {
	r, err := s.impl.SignIn(ctx, SignInRequest{Key: keyFromProto(req.GetKey()), Operator: req.GetOperator()})
	if err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return &channelspb.SignInResponse{
		Code: r.Code, Message: r.Message, Batch: r.Batch,
		PinKey: workingKeyToProto(r.PINKey), MacKey: workingKeyToProto(r.MACKey), TrackKey: workingKeyToProto(r.TrackKey),
	}, nil
}

func (s *server) Sale(ctx context.Context, req *channelspb.SaleRequest) (*channelspb.Response, error) {
	return answer(s.impl.Sale(ctx, SaleRequest{
		Key: keyFromProto(req.GetKey()), Amount: req.GetAmount(), Card: cardFromProto(req.GetCard()),
		PINBlock: req.GetPinBlock(), PaymentCode: req.GetPaymentCode(),
	}))
}

func (s *server) Void(ctx context.Context, req *channelspb.VoidRequest) (*channelspb.Response, error) {
	return answer(s.impl.Void(ctx, VoidRequest{
		Key: keyFromProto(req.GetKey()), Amount: req.GetAmount(), Original: keyFromProto(req.GetOriginal()), OriginalRRN: req.GetOriginalRrn(),
	}))
}

func (s *server) Refund(ctx context.Context, req *channelspb.RefundRequest) (*channelspb.Response, error) {
	return answer(s.impl.Refund(ctx, RefundRequest{
		Key: keyFromProto(req.GetKey()), Amount: req.GetAmount(), Original: keyFromProto(req.GetOriginal()),
		OriginalRRN: req.GetOriginalRrn(), OriginalDate: req.GetOriginalDate(), RefundNo: req.GetRefundNo(),
	}))
}

func (s *server) Reverse(ctx context.Context, req *channelspb.ReverseRequest) (*channelspb.Response, error) {
	return answer(s.impl.Reverse(ctx, ReverseRequest{Key: keyFromProto(req.GetKey()), Amount: req.GetAmount(), Reason: req.GetReason()}))
}

func (s *server) Query(ctx context.Context, req *channelspb.QueryRequest) (*channelspb.Response, error) {
	return answer(s.impl.Query(ctx, keyFromProto(req.GetKey())))
}

func (s *server) Settle(ctx context.Context, req *channelspb.SettleRequest) (*channelspb.SettleResponse, error) {
	r, err := s.impl.Settle(ctx, SettleRequest{Key: keyFromProto(req.GetKey()), Totals: totalsFromProto(req.GetTotals())})
	if err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return &channelspb.SettleResponse{Code: r.Code, Message: r.Message, Balanced: r.Balanced}, nil
}
