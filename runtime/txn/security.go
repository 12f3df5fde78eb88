package txn

import (
	"context"
	"errors"
	"fmt"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/pinpad"
)

// PINPadSecurity is the security service the runtime brokers to channel
// plugins: each MAC is computed or checked by the PIN pad, which holds the
// MAC key, so the key never leaves it.
type PINPadSecurity struct {
	PinPad func(context.Context) (pinpad.PinPad, error)
}

var _ channels.Security = PINPadSecurity{}

// CalculateMAC implements channels.Security.
func (s PINPadSecurity) CalculateMAC(ctx context.Context, data []byte) ([]byte, error) {
	pp, err := s.PinPad(ctx)
	if err != nil {
		return nil, fmt.Errorf("calculating a MAC: %w", err)
	}
	mac, err := pp.CalculateMAC(ctx, pinpad.MACRequest{Data: data})
	if err != nil {
		return nil, fmt.Errorf("calculating a MAC: %w", err)
	}
	return mac, nil
}

// VerifyMAC implements channels.Security; a mismatch is channels.ErrBadMAC.
func (s PINPadSecurity) VerifyMAC(ctx context.Context, data, mac []byte) error {
	pp, err := s.PinPad(ctx)
	if err != nil {
		return fmt.Errorf("verifying a MAC: %w", err)
	}
	err = pp.VerifyMAC(ctx, pinpad.MACRequest{Data: data, MAC: mac})
	if errors.Is(err, pinpad.ErrBadMAC) {
		return fmt.Errorf("verifying a MAC: %w", channels.ErrBadMAC)
	}
	if err != nil {
		return fmt.Errorf("verifying a MAC: %w", err)
	}
	return nil
}
