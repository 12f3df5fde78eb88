package channels

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	channelspb "github.com/posrt/posrt/plugins/channels/proto"
)

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

// timeToProto sends the zero time as no timestamp.
func timeToProto(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// timeFromProto reads no timestamp as the zero time.
func timeFromProto(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

func responseToProto(r Response) *channelspb.Response {
	return &channelspb.Response{Code: r.Code, Message: r.Message, Rrn: r.RRN, AuthCode: r.AuthCode, Amount: r.Amount, HostTime: timeToProto(r.HostTime)}
}

func responseFromProto(r *channelspb.Response) Response {
	return Response{Code: r.GetCode(), Message: r.GetMessage(), RRN: r.GetRrn(), AuthCode: r.GetAuthCode(), Amount: r.GetAmount(), HostTime: timeFromProto(r.GetHostTime())}
}

func cardToProto(c Card) *channelspb.Card {
	return &channelspb.Card{MaskedPan: c.MaskedPAN, Expiry: c.Expiry, EntryMode: c.EntryMode, EncryptedTrack: c.EncryptedTrack,
		SequenceNumber: c.SequenceNumber, IccData: c.ICCData}
}

func cardFromProto(c *channelspb.Card) Card {
	return Card{MaskedPAN: c.GetMaskedPan(), Expiry: c.GetExpiry(), EntryMode: c.GetEntryMode(), EncryptedTrack: c.GetEncryptedTrack(),
		SequenceNumber: c.GetSequenceNumber(), ICCData: c.GetIccData()}
}

func totalsToProto(t Totals) *channelspb.Totals {
	return &channelspb.Totals{
		Medium: t.Medium, SaleCount: t.SaleCount, SaleAmount: t.SaleAmount, VoidCount: t.VoidCount, VoidAmount: t.VoidAmount,
		RefundCount: t.RefundCount, RefundAmount: t.RefundAmount,
	}
}

func totalsFromProto(t *channelspb.Totals) Totals {
	return Totals{
		Medium: t.GetMedium(), SaleCount: t.GetSaleCount(), SaleAmount: t.GetSaleAmount(), VoidCount: t.GetVoidCount(), VoidAmount: t.GetVoidAmount(),
		RefundCount: t.GetRefundCount(), RefundAmount: t.GetRefundAmount(),
	}
}

func recordsToProto(rs []UploadRecord) []*channelspb.UploadRecord {
	out := make([]*channelspb.UploadRecord, len(rs))
	for i, r := range rs {
		out[i] = &channelspb.UploadRecord{Key: keyToProto(r.Key), Kind: r.Kind, Amount: r.Amount, MaskedPan: r.MaskedPAN, Rrn: r.RRN, AuthCode: r.AuthCode}
	}
	return out
}

func recordsFromProto(rs []*channelspb.UploadRecord) []UploadRecord {
	out := make([]UploadRecord, len(rs))
	for i, r := range rs {
		out[i] = UploadRecord{Key: keyFromProto(r.GetKey()), Kind: r.GetKind(), Amount: r.GetAmount(), MaskedPAN: r.GetMaskedPan(), RRN: r.GetRrn(), AuthCode: r.GetAuthCode()}
	}
	return out
}

func signInToProto(r SignInResponse) *channelspb.SignInResponse {
	return &channelspb.SignInResponse{
		Code: r.Code, Message: r.Message, Batch: r.Batch,
		PinKey: workingKeyToProto(r.PINKey), MacKey: workingKeyToProto(r.MACKey), TrackKey: workingKeyToProto(r.TrackKey),
		HostTime: timeToProto(r.HostTime),
	}
}

func signInFromProto(r *channelspb.SignInResponse) SignInResponse {
	return SignInResponse{
		Code: r.GetCode(), Message: r.GetMessage(), Batch: r.GetBatch(),
		PINKey: workingKeyFromProto(r.GetPinKey()), MACKey: workingKeyFromProto(r.GetMacKey()), TrackKey: workingKeyFromProto(r.GetTrackKey()),
		HostTime: timeFromProto(r.GetHostTime()),
	}
}
