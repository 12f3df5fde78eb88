package pinpad

import (
	"context"

	"github.com/posrt/posrt/plugins/base"
	pinpadpb "github.com/posrt/posrt/plugins/pinpad/proto"
)

type server struct {
	pinpadpb.UnimplementedPinPadServer
	impl PinPad
}

func (s *server) ReadCard(ctx context.Context, req *pinpadpb.ReadCardRequest) (*pinpadpb.ReadCardResponse, error) {
	c, err := s.impl.ReadCard(ctx, ReadCardRequest{Amount: req.GetAmount(), EntryModes: req.GetEntryModes()})
	if err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return &pinpadpb.ReadCardResponse{MaskedPan: c.MaskedPAN, Expiry: c.Expiry, EntryMode: c.EntryMode, EncryptedTrack: c.EncryptedTrack,
		SequenceNumber: c.SequenceNumber, IccData: c.ICCData}, nil
}

func (s *server) GetPIN(ctx context.Context, req *pinpadpb.GetPINRequest) (*pinpadpb.GetPINResponse, error) {
	b, err := s.impl.GetPIN(ctx, PINRequest{Amount: req.GetAmount(), EncryptedTrack: req.GetEncryptedTrack()})
	if err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return &pinpadpb.GetPINResponse{PinBlock: b}, nil
}

func (s *server) Display(ctx context.Context, req *pinpadpb.DisplayRequest) (*pinpadpb.DisplayResponse, error) {
	if err := s.impl.Display(ctx, req.GetLines()); err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return &pinpadpb.DisplayResponse{}, nil
}

func (s *server) LoadWorkingKeys(ctx context.Context, req *pinpadpb.LoadWorkingKeysRequest) (*pinpadpb.LoadWorkingKeysResponse, error) {
	keys := WorkingKeys{PIN: keyFromProto(req.GetPinKey()), MAC: keyFromProto(req.GetMacKey()), Track: keyFromProto(req.GetTrackKey())}
	if err := s.impl.LoadWorkingKeys(ctx, keys); err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return &pinpadpb.LoadWorkingKeysResponse{}, nil
}

func (s *server) CalculateMAC(ctx context.Context, req *pinpadpb.CalculateMACRequest) (*pinpadpb.CalculateMACResponse, error) {
	mac, err := s.impl.CalculateMAC(ctx, MACRequest{Data: req.GetData()})
	if err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return &pinpadpb.CalculateMACResponse{Mac: mac}, nil
}

func (s *server) VerifyMAC(ctx context.Context, req *pinpadpb.VerifyMACRequest) (*pinpadpb.VerifyMACResponse, error) {
	if err := s.impl.VerifyMAC(ctx, verifyMACFromProto(req)); err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return &pinpadpb.VerifyMACResponse{}, nil
}

func (s *server) EraseKeys(ctx context.Context, _ *pinpadpb.EraseKeysRequest) (*pinpadpb.EraseKeysResponse, error) {
	if err := s.impl.EraseKeys(ctx); err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return &pinpadpb.EraseKeysResponse{}, nil
}

func (s *server) InjectMasterKey(ctx context.Context, req *pinpadpb.InjectMasterKeyRequest) (*pinpadpb.InjectMasterKeyResponse, error) {
	k := MasterKey{Key: req.GetKey(), CheckValue: req.GetCheckValue()}
	defer clear(k.Key)
	if err := s.impl.InjectMasterKey(ctx, k); err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return &pinpadpb.InjectMasterKeyResponse{}, nil
}
