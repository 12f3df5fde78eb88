package base

import (
	"context"
	"fmt"

	goplugin "github.com/hashicorp/go-plugin"
)

// ProtocolVersion is the transport version of the handshake. It changes only
// when the wire between host and plugin changes incompatibly; a kind's API
// grows through its own negotiated API versions instead.
const ProtocolVersion = 1

// Handshake is shared by the runtime and every plugin binary. A binary run
// by hand (without the cookie) explains itself and exits.
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "POSRT_PLUGIN",
	MagicCookieValue: "7d3c1f0e-posrt-payment-terminal-plugin",
}

// Kinds of plugin the runtime knows.
const (
	KindPinPad  = "pinpad"
	KindPrinter = "printer"
	KindScanner = "scanner"
	// KindAcquirer is a bank-card acquirer channel (channels.Acquirer).
	KindAcquirer = "acquirer"
	// KindWallet is a payment-code wallet channel (channels.Wallet).
	KindWallet = "wallet"
)

// Info identifies a plugin.
type Info struct {
	Kind        string
	Name        string
	Version     string
	APIVersions []string
	// Capabilities lists the optional methods this implementation has
	// beyond its kind's required ones (each kind names its own, such as
	// pinpad.CapabilityMAC). The host calls an optional method only when
	// its capability is listed, so a contract grows without breaking a
	// vendor's plugin built against an older one.
	Capabilities []string
}

// Has reports whether the plugin lists capability c.
func (i Info) Has(c string) bool {
	for _, have := range i.Capabilities {
		if have == c {
			return true
		}
	}
	return false
}

// Device states, after UnifiedPOS.
const (
	StateIdle    = "idle"
	StateBusy    = "busy"
	StateError   = "error"
	StateOffline = "offline"
)

// Health is a plugin's own view of its device.
type Health struct {
	State  string
	Detail string
}

// Base is what every plugin serves beside its kind's methods. The host calls
// Info once after each start, then Configure with the API version it chose
// and the plugin's configuration keys, then Health periodically.
type Base interface {
	Info(ctx context.Context) (Info, error)
	Configure(ctx context.Context, apiVersion string, config map[string]string) error
	Health(ctx context.Context) (Health, error)
}

// Negotiate returns the newest API version both sides speak. host lists the
// versions the runtime supports, newest first.
func Negotiate(host, plugin []string) (string, error) {
	for _, h := range host {
		for _, p := range plugin {
			if h == p {
				return h, nil
			}
		}
	}
	return "", fmt.Errorf("no common API version: runtime speaks %v, plugin speaks %v", host, plugin)
}
