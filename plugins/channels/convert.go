package channels

import channelspb "github.com/posrt/posrt/plugins/channels/proto"

func keyToProto(k Key) *channelspb.Key {
	return &channelspb.Key{Tid: k.TID, Mid: k.MID, Batch: k.Batch, Trace: k.Trace}
}

func keyFromProto(k *channelspb.Key) Key {
	return Key{TID: k.GetTid(), MID: k.GetMid(), Batch: k.GetBatch(), Trace: k.GetTrace()}
}

func workingKeyToProto(k WorkingKey) *channelspb.WorkingKey {
	return &channelspb.WorkingKey{Encrypted: k.Encrypted, CheckValue: k.CheckValue}
}

func workingKeyFromProto(k *channelspb.WorkingKey) WorkingKey {
	return WorkingKey{Encrypted: k.GetEncrypted(), CheckValue: k.GetCheckValue()}
}

func responseToProto(r Response) *channelspb.Response {
	return &channelspb.Response{Code: r.Code, Message: r.Message, Rrn: r.RRN, AuthCode: r.AuthCode, Amount: r.Amount, HostUnix: r.HostUnix}
}

func responseFromProto(r *channelspb.Response) Response {
	return Response{Code: r.GetCode(), Message: r.GetMessage(), RRN: r.GetRrn(), AuthCode: r.GetAuthCode(), Amount: r.GetAmount(), HostUnix: r.GetHostUnix()}
}

func cardToProto(c Card) *channelspb.Card {
	return &channelspb.Card{MaskedPan: c.MaskedPAN, Expiry: c.Expiry, EntryMode: c.EntryMode, EncryptedTrack: c.EncryptedTrack}
}

func cardFromProto(c *channelspb.Card) Card {
	return Card{MaskedPAN: c.GetMaskedPan(), Expiry: c.GetExpiry(), EntryMode: c.GetEntryMode(), EncryptedTrack: c.GetEncryptedTrack()}
}

func totalsToProto(ts []Totals) []*channelspb.Totals {
	out := make([]*channelspb.Totals, len(ts))
	for i, t := range ts {
		out[i] = &channelspb.Totals{Channel: t.Channel, SaleCount: t.SaleCount, SaleAmount: t.SaleAmount, RefundCount: t.RefundCount, RefundAmount: t.RefundAmount}
	}
	return out
}

func totalsFromProto(ts []*channelspb.Totals) []Totals {
	out := make([]Totals, len(ts))
	for i, t := range ts {
		out[i] = Totals{Channel: t.GetChannel(), SaleCount: t.GetSaleCount(), SaleAmount: t.GetSaleAmount(), RefundCount: t.GetRefundCount(), RefundAmount: t.GetRefundAmount()}
	}
	return out
}
