package channels

import (
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	channelspb "github.com/posrt/posrt/plugins/channels/proto"
	"github.com/posrt/posrt/runtime/plugin"
)

// NewPlugin returns the go-plugin glue of the payment-channel kind serving impl;
// the runtime's side passes nil.
func NewPlugin(impl Channel) goplugin.Plugin {
	return &plugin.Glue[Channel]{
		Impl:     impl,
		Register: func(s *grpc.Server, impl Channel) { channelspb.RegisterChannelServer(s, &server{impl: impl}) },
		NewClient: func(c *grpc.ClientConn) Channel {
			return &client{BaseClient: plugin.NewBaseClient(c), c: channelspb.NewChannelClient(c)}
		},
	}
}

// Serve runs the current process as a payment channel plugin. It does not return.
func Serve(impl Channel) {
	plugin.Serve(plugin.KindChannel, NewPlugin(impl))
}
