package channels

import (
	"context"

	"github.com/posrt/posrt/plugins/base"
	channelspb "github.com/posrt/posrt/plugins/channels/proto"
)

type client struct {
	base.BaseClient
	c channelspb.ChannelClient
}

var _ Channel = (*client)(nil)

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
	return SignInResponse{
		Code: r.GetCode(), Message: r.GetMessage(), Batch: r.GetBatch(),
		PINKey: workingKeyFromProto(r.GetPinKey()), MACKey: workingKeyFromProto(r.GetMacKey()), TrackKey: workingKeyFromProto(r.GetTrackKey()),
	}, nil
}

func (c *client) Sale(ctx context.Context, req SaleRequest) (Response, error) {
	return reply(c.c.Sale(ctx, &channelspb.SaleRequest{
		Key: keyToProto(req.Key), Amount: req.Amount, Card: cardToProto(req.Card), PinBlock: req.PINBlock, PaymentCode: req.PaymentCode,
	}))
}

func (c *client) Void(ctx context.Context, req VoidRequest) (Response, error) {
	return reply(c.c.Void(ctx, &channelspb.VoidRequest{
		Key: keyToProto(req.Key), Amount: req.Amount, Original: keyToProto(req.Original), OriginalRrn: req.OriginalRRN,
	}))
}

func (c *client) Refund(ctx context.Context, req RefundRequest) (Response, error) {
	return reply(c.c.Refund(ctx, &channelspb.RefundRequest{
		Key: keyToProto(req.Key), Amount: req.Amount, Original: keyToProto(req.Original),
		OriginalRrn: req.OriginalRRN, OriginalDate: req.OriginalDate, RefundNo: req.RefundNo,
	}))
}

func (c *client) Reverse(ctx context.Context, req ReverseRequest) (Response, error) {
	return reply(c.c.Reverse(ctx, &channelspb.ReverseRequest{Key: keyToProto(req.Key), Amount: req.Amount, Reason: req.Reason}))
}

func (c *client) Query(ctx context.Context, key Key) (Response, error) {
	return reply(c.c.Query(ctx, &channelspb.QueryRequest{Key: keyToProto(key)}))
}

func (c *client) Settle(ctx context.Context, req SettleRequest) (SettleResponse, error) {
	r, err := c.c.Settle(ctx, &channelspb.SettleRequest{Key: keyToProto(req.Key), Totals: totalsToProto(req.Totals)})
	if err != nil {
		return SettleResponse{}, base.FromStatus(err, sentinels)
	}
	return SettleResponse{Code: r.GetCode(), Message: r.GetMessage(), Balanced: r.GetBalanced()}, nil
}
