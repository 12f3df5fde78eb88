package channels

import "context"

// Security is the terminal's security module as a channel plugin sees it:
// the runtime serves it to the plugin over go-plugin's GRPCBroker and
// answers each call by asking the PIN pad, which holds the MAC key; so the
// MAC key never leaves the PIN pad and never enters a channel plugin.
type Security interface {
	// CalculateMAC returns the MAC of data under the current MAC key.
	CalculateMAC(ctx context.Context, data []byte) ([]byte, error)
	// VerifyMAC checks mac over data; a mismatch is ErrBadMAC.
	VerifyMAC(ctx context.Context, data, mac []byte) error
}
