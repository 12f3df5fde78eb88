package channels

import (
	"context"

	"github.com/posrt/posrt/plugins/base"
	channelspb "github.com/posrt/posrt/plugins/channels/proto"
)

// client is the runtime's side of an acquirer plugin.
type client struct {
	base.BaseClient
	c channelspb.AcquirerClient
}

var _ Acquirer = (*client)(nil)

func reply(r *channelspb.Response, err error) (Response, error) {
	if err != nil {
		return Response{}, base.FromStatus(err, sentinels)
	}
	return responseFromProto(r), nil
}

func (c *client) SignIn(ctx context.Context, req SignInRequest) (SignInResponse, error) {
	r, err := c.c.SignIn(ctx, &channelspb.SignInRequest{Key: keyToProto(req.Key), Operator: req.Operator})
	if err != nil {
		return SignInResponse{}, base.FromStatus(err, sentinels)
	}
	return signInFromProto(r), nil
}

func (c *client) Sale(ctx context.Context, req CardSaleRequest) (Response, error) {
	return reply(c.c.Sale(ctx, &channelspb.SaleRequest{
		Key: keyToProto(req.Key), Amount: req.Amount, Card: cardToProto(req.Card), PinBlock: req.PINBlock,
	}))
}

func (c *client) Void(ctx context.Context, req VoidRequest) (Response, error) {
	return reply(c.c.Void(ctx, &channelspb.VoidRequest{
		Key: keyToProto(req.Key), Amount: req.Amount, Card: cardToProto(req.Card), PinBlock: req.PINBlock,
		Original: keyToProto(req.Original), OriginalRrn: req.OriginalRRN, OriginalAuthCode: req.OriginalAuthCode,
	}))
}

func (c *client) Refund(ctx context.Context, req RefundRequest) (Response, error) {
	return reply(c.c.Refund(ctx, &channelspb.RefundRequest{
		Key: keyToProto(req.Key), Amount: req.Amount, Card: cardToProto(req.Card), Original: keyToProto(req.Original),
		OriginalRrn: req.OriginalRRN, OriginalDate: req.OriginalDate, RefundNo: req.RefundNo,
	}))
}

func (c *client) Reverse(ctx context.Context, req ReverseRequest) (Response, error) {
	return reply(c.c.Reverse(ctx, &channelspb.ReverseRequest{
		Key: keyToProto(req.Key), Amount: req.Amount, Reason: string(req.Reason), Original: keyToProto(req.Original),
	}))
}

func (c *client) Query(ctx context.Context, req QueryRequest) (QueryResponse, error) {
	r, err := c.c.Query(ctx, &channelspb.QueryRequest{Key: keyToProto(req.Key)})
	if err != nil {
		return QueryResponse{}, base.FromStatus(err, sentinels)
	}
	q := QueryResponse{Booking: Booking(r.GetBooking())}
	if r.GetResponse() != nil {
		q.Response = responseFromProto(r.GetResponse())
	}
	return q, nil
}

func (c *client) Settle(ctx context.Context, req SettleRequest) (SettleResponse, error) {
	r, err := c.c.Settle(ctx, &channelspb.SettleRequest{Key: keyToProto(req.Key), Totals: totalsToProto(req.Totals)})
	if err != nil {
		return SettleResponse{}, base.FromStatus(err, sentinels)
	}
	return SettleResponse{
		Code: r.GetCode(), Message: r.GetMessage(), Balanced: r.GetBalanced(),
		HostTotals: totalsFromProto(r.GetHostTotals()), HostTime: timeFromProto(r.GetHostTime()),
	}, nil
}

func (c *client) BatchUpload(ctx context.Context, req BatchUploadRequest) (BatchUploadResponse, error) {
	r, err := c.c.BatchUpload(ctx, &channelspb.BatchUploadRequest{Key: keyToProto(req.Key), Records: recordsToProto(req.Records), Last: req.Last})
	if err != nil {
		return BatchUploadResponse{}, base.FromStatus(err, sentinels)
	}
	return BatchUploadResponse{Code: r.GetCode(), Message: r.GetMessage()}, nil
}

// securityClient is the plugin's side of the runtime's Security service.
type securityClient struct {
	c channelspb.SecurityClient
}

func (s securityClient) CalculateMAC(ctx context.Context, data []byte) ([]byte, error) {
	r, err := s.c.CalculateMAC(ctx, &channelspb.CalculateMACRequest{Data: data})
	if err != nil {
		return nil, base.FromStatus(err, sentinels)
	}
	return r.GetMac(), nil
}

func (s securityClient) VerifyMAC(ctx context.Context, data, mac []byte) error {
	_, err := s.c.VerifyMAC(ctx, &channelspb.VerifyMACRequest{Data: data, Mac: mac})
	return base.FromStatus(err, sentinels)
}
