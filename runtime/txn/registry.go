package txn

import (
	"context"
	"fmt"
	"sort"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/runtime/journal"
)

// Registry routes each medium to its channel: one card acquirer and any
// number of payment-code wallets, built from the configuration. Each entry
// returns the channel's current client, waiting while a crashed plugin
// restarts.
type Registry struct {
	acquirer     func(context.Context) (channels.Acquirer, error)
	acquirerName string
	wallets      map[journal.Medium]walletEntry
}

type walletEntry struct {
	name string
	get  func(context.Context) (channels.Wallet, error)
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{wallets: map[journal.Medium]walletEntry{}} }

// SetAcquirer routes card operations to the acquirer plugin name.
func (r *Registry) SetAcquirer(name string, get func(context.Context) (channels.Acquirer, error)) {
	r.acquirer, r.acquirerName = get, name
}

// AddWallet routes medium m to the wallet plugin name.
func (r *Registry) AddWallet(m journal.Medium, name string, get func(context.Context) (channels.Wallet, error)) error {
	if !m.Wallet() {
		return fmt.Errorf("%s is not a payment-code wallet", m)
	}
	if prev, ok := r.wallets[m]; ok {
		return fmt.Errorf("%s is already served by %q", m, prev.name)
	}
	r.wallets[m] = walletEntry{name: name, get: get}
	return nil
}

// Acquirer returns the card acquirer.
func (r *Registry) Acquirer(ctx context.Context) (channels.Acquirer, error) {
	if r.acquirer == nil {
		return nil, refuse(CodeNoChannel, "no card acquirer is configured")
	}
	return r.acquirer(ctx)
}

// Wallet returns the wallet of medium m.
func (r *Registry) Wallet(ctx context.Context, m journal.Medium) (channels.Wallet, error) {
	w, ok := r.wallets[m]
	if !ok {
		return nil, refuse(CodeNoChannel, "no %s channel is configured on this terminal", m)
	}
	return w.get(ctx)
}

// Wallets lists the media that have a wallet, in the order of
// journal.Media.
func (r *Registry) Wallets() []journal.Medium {
	var out []journal.Medium
	for _, m := range journal.Media {
		if _, ok := r.wallets[m]; ok {
			out = append(out, m)
		}
	}
	return out
}

func (r *Registry) has(m journal.Medium) error {
	if m == journal.MediumCard && r.acquirer != nil {
		return nil
	}
	if _, ok := r.wallets[m]; ok {
		return nil
	}
	return refuse(CodeNoChannel, "no %s channel is configured on this terminal", m)
}

// ChannelStatus is one channel as /v1/status shows it.
type ChannelStatus struct {
	Name     string         `json:"name"`
	Medium   journal.Medium `json:"medium"`
	SignedIn *bool          `json:"signed_in,omitempty"` // the acquirer only
	Pending  int            `json:"pending"`
	Flagged  int            `json:"flagged"`
}

// Channels reports every channel with its sign-in state and pending count.
func (e *Engine) Channels() ([]ChannelStatus, error) {
	pending, err := e.deps.Journal.Pending()
	if err != nil {
		return nil, err
	}
	count, flagged := map[journal.Medium]int{}, map[journal.Medium]int{}
	for _, p := range pending {
		count[p.Medium]++
		if p.Flagged {
			flagged[p.Medium]++
		}
	}
	var out []ChannelStatus
	r := e.deps.Channels
	if r.acquirer != nil {
		on := e.SignedIn()
		out = append(out, ChannelStatus{Name: r.acquirerName, Medium: journal.MediumCard, SignedIn: &on, Pending: count[journal.MediumCard], Flagged: flagged[journal.MediumCard]})
	}
	var media []journal.Medium
	for m := range r.wallets {
		media = append(media, m)
	}
	sort.Slice(media, func(a, b int) bool { return media[a] < media[b] })
	for _, m := range media {
		out = append(out, ChannelStatus{Name: r.wallets[m].name, Medium: m, Pending: count[m], Flagged: flagged[m]})
	}
	return out, nil
}
