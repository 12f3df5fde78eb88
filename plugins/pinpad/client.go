package pinpad

import (
	"context"

	"github.com/posrt/posrt/plugins/base"
	pinpadpb "github.com/posrt/posrt/plugins/pinpad/proto"
)

type client struct {
	base.BaseClient
	c pinpadpb.PinPadClient
}

var _ PinPad = (*client)(nil)

func (c *client) ReadCard(ctx context.Context, req ReadCardRequest) (Card, error) {
	r, err := c.c.ReadCard(ctx, &pinpadpb.ReadCardRequest{Amount: req.Amount, EntryModes: req.EntryModes})
	if err != nil {
		return Card{}, base.FromStatus(err, sentinels)
	}
	return Card{MaskedPAN: r.GetMaskedPan(), Expiry: r.GetExpiry(), EntryMode: r.GetEntryMode(), EncryptedTrack: r.GetEncryptedTrack(),
		SequenceNumber: r.GetSequenceNumber(), ICCData: r.GetIccData()}, nil
}

func (c *client) GetPIN(ctx context.Context, req PINRequest) (PINBlock, error) {
	r, err := c.c.GetPIN(ctx, &pinpadpb.GetPINRequest{Amount: req.Amount, EncryptedTrack: req.EncryptedTrack})
	if err != nil {
		return nil, base.FromStatus(err, sentinels)
	}
	return r.GetPinBlock(), nil
}

func (c *client) Display(ctx context.Context, lines []string) error {
	_, err := c.c.Display(ctx, &pinpadpb.DisplayRequest{Lines: lines})
	return base.FromStatus(err, sentinels)
}

func (c *client) LoadWorkingKeys(ctx context.Context, keys WorkingKeys) error {
	_, err := c.c.LoadWorkingKeys(ctx, &pinpadpb.LoadWorkingKeysRequest{
		PinKey: keyToProto(keys.PIN), MacKey: keyToProto(keys.MAC), TrackKey: keyToProto(keys.Track),
	})
	return base.FromStatus(err, sentinels)
}

func (c *client) CalculateMAC(ctx context.Context, req MACRequest) ([]byte, error) {
	r, err := c.c.CalculateMAC(ctx, &pinpadpb.CalculateMACRequest{Data: req.Data})
	if err != nil {
		return nil, base.FromStatus(err, sentinels)
	}
	return r.GetMac(), nil
}

func (c *client) VerifyMAC(ctx context.Context, req MACRequest) error {
	_, err := c.c.VerifyMAC(ctx, verifyMACToProto(req))
	return base.FromStatus(err, sentinels)
}

func (c *client) EraseKeys(ctx context.Context) error {
	_, err := c.c.EraseKeys(ctx, &pinpadpb.EraseKeysRequest{})
	return base.FromStatus(err, sentinels)
}

func (c *client) InjectMasterKey(ctx context.Context, key MasterKey) error {
	_, err := c.c.InjectMasterKey(ctx, &pinpadpb.InjectMasterKeyRequest{Key: key.Key, CheckValue: key.CheckValue})
	return base.FromStatus(err, sentinels)
}
