package channels

import (
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/posrt/posrt/plugins/base"
	channelspb "github.com/posrt/posrt/plugins/channels/proto"
)

// NewWalletPlugin returns the go-plugin glue of the wallet kind serving
// impl; the runtime's side passes nil.
func NewWalletPlugin(impl Wallet) goplugin.Plugin {
	return &base.Glue[Wallet]{
		Impl: impl,
		Register: func(s grpc.ServiceRegistrar, impl Wallet) {
			channelspb.RegisterWalletServer(s, &walletServer{impl: impl})
		},
		NewClient: func(c grpc.ClientConnInterface) Wallet {
			return &walletClient{BaseClient: base.NewBaseClient(c), c: channelspb.NewWalletClient(c)}
		},
	}
}

// ServeWallet runs the current process as a wallet plugin. It does not
// return.
func ServeWallet(impl Wallet) {
	base.Serve(base.KindWallet, NewWalletPlugin(impl))
}
