package pinpad

import pinpadpb "github.com/posrt/posrt/plugins/pinpad/proto"

func keyToProto(k WorkingKey) *pinpadpb.WorkingKey {
	return &pinpadpb.WorkingKey{Encrypted: k.Encrypted, CheckValue: k.CheckValue}
}

func keyFromProto(k *pinpadpb.WorkingKey) WorkingKey {
	return WorkingKey{Encrypted: k.GetEncrypted(), CheckValue: k.GetCheckValue()}
}

func verifyMACToProto(r MACRequest) *pinpadpb.VerifyMACRequest {
	return &pinpadpb.VerifyMACRequest{Data: r.Data, Mac: r.MAC}
}

func verifyMACFromProto(r *pinpadpb.VerifyMACRequest) MACRequest {
	return MACRequest{Data: r.GetData(), MAC: r.GetMac()}
}
