package channels

import (
	"context"

	"github.com/posrt/posrt/plugins/base"
	channelspb "github.com/posrt/posrt/plugins/channels/proto"
)

// server serves an Acquirer implementation in the plugin.
type server struct {
	channelspb.UnimplementedAcquirerServer
	impl Acquirer
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
	return signInToProto(r), nil
}

func (s *server) Sale(ctx context.Context, req *channelspb.SaleRequest) (*channelspb.Response, error) {
	return answer(s.impl.Sale(ctx, CardSaleRequest{
		Key: keyFromProto(req.GetKey()), Amount: req.GetAmount(), Card: cardFromProto(req.GetCard()), PINBlock: req.GetPinBlock(),
	}))
}

func (s *server) Void(ctx context.Context, req *channelspb.VoidRequest) (*channelspb.Response, error) {
	return answer(s.impl.Void(ctx, VoidRequest{
		Key: keyFromProto(req.GetKey()), Amount: req.GetAmount(), Card: cardFromProto(req.GetCard()), PINBlock: req.GetPinBlock(),
		Original: keyFromProto(req.GetOriginal()), OriginalRRN: req.GetOriginalRrn(), OriginalAuthCode: req.GetOriginalAuthCode(),
	}))
}

func (s *server) Refund(ctx context.Context, req *channelspb.RefundRequest) (*channelspb.Response, error) {
	return answer(s.impl.Refund(ctx, RefundRequest{
		Key: keyFromProto(req.GetKey()), Amount: req.GetAmount(), Card: cardFromProto(req.GetCard()), Original: keyFromProto(req.GetOriginal()),
		OriginalRRN: req.GetOriginalRrn(), OriginalDate: req.GetOriginalDate(), RefundNo: req.GetRefundNo(),
	}))
}

func (s *server) Reverse(ctx context.Context, req *channelspb.ReverseRequest) (*channelspb.Response, error) {
	return answer(s.impl.Reverse(ctx, ReverseRequest{
		Key: keyFromProto(req.GetKey()), Amount: req.GetAmount(), Reason: ReversalReason(req.GetReason()), Original: keyFromProto(req.GetOriginal()),
	}))
}

func (s *server) Query(ctx context.Context, req *channelspb.QueryRequest) (*channelspb.QueryResponse, error) {
	r, err := s.impl.Query(ctx, QueryRequest{Key: keyFromProto(req.GetKey())})
	if err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return &channelspb.QueryResponse{Booking: string(r.Booking), Response: responseToProto(r.Response)}, nil
}

func (s *server) Settle(ctx context.Context, req *channelspb.SettleRequest) (*channelspb.SettleResponse, error) {
	r, err := s.impl.Settle(ctx, SettleRequest{Key: keyFromProto(req.GetKey()), Totals: totalsFromProto(req.GetTotals())})
	if err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return &channelspb.SettleResponse{
		Code: r.Code, Message: r.Message, Balanced: r.Balanced, HostTotals: totalsToProto(r.HostTotals), HostTime: timeToProto(r.HostTime),
	}, nil
}

func (s *server) BatchUpload(ctx context.Context, req *channelspb.BatchUploadRequest) (*channelspb.BatchUploadResponse, error) {
	r, err := s.impl.BatchUpload(ctx, BatchUploadRequest{Key: keyFromProto(req.GetKey()), Records: recordsFromProto(req.GetRecords()), Last: req.GetLast()})
	if err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return &channelspb.BatchUploadResponse{Code: r.Code, Message: r.Message}, nil
}

// securityServer serves the runtime's Security implementation to a plugin.
type securityServer struct {
	channelspb.UnimplementedSecurityServer
	impl Security
}

func (s *securityServer) CalculateMAC(ctx context.Context, req *channelspb.CalculateMACRequest) (*channelspb.CalculateMACResponse, error) {
	mac, err := s.impl.CalculateMAC(ctx, req.GetData())
	if err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return &channelspb.CalculateMACResponse{Mac: mac}, nil
}

func (s *securityServer) VerifyMAC(ctx context.Context, req *channelspb.VerifyMACRequest) (*channelspb.VerifyMACResponse, error) {
	if err := s.impl.VerifyMAC(ctx, req.GetData(), req.GetMac()); err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return &channelspb.VerifyMACResponse{}, nil
}
