package base

import (
	"context"
	"fmt"
	"slices"
	"time"

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
	// Conditions are the device's conditions in its kind's words (a
	// printer's paper_near_end, cover_open), sorted; none when it has none.
	Conditions []string
}

// Equal reports whether h and o say the same.
func (h Health) Equal(o Health) bool {
	return h.State == o.State && h.Detail == o.Detail && slices.Equal(h.Conditions, o.Conditions)
}

// Base is what every plugin serves beside its kind's methods. The host calls
// Info once after each start, then Configure with the API version it chose
// and the plugin's configuration keys, then watches the device's events
// (Watcher, or Health probed in the plugin's process for a plugin that is
// not one) and calls Health periodically to know the plugin answers.
type Base interface {
	Info(ctx context.Context) (Info, error)
	Configure(ctx context.Context, apiVersion string, config map[string]string) error
	Health(ctx context.Context) (Health, error)
}

// EventType is what a device event reports, after UnifiedPOS.
type EventType string

// Event types.
const (
	// EventStatus is a change of state or conditions (UnifiedPOS
	// StatusUpdateEvent); a watch opens with one giving the state then.
	EventStatus EventType = "status"
	// EventError is an error the device reported (UnifiedPOS ErrorEvent).
	EventError EventType = "error"
)

// Event is one event of a device: its health after the event and, for an
// error event, the error.
type Event struct {
	Type   EventType
	Health Health
	// ErrorCode is an error event's code in the kind's words (a
	// sentinel's text, such as "paper out"); ErrorMessage the device's
	// words about it.
	ErrorCode    string
	ErrorMessage string
	At           time.Time
}

// Watcher is a plugin that reports its device's events as they happen.
// Watch calls send with a status event of the current state at once,
// then with every event, until ctx ends (it then returns nil) or send
// fails (it returns that error). A plugin that embeds a Monitor is one.
type Watcher interface {
	Watch(ctx context.Context, send func(Event) error) error
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
