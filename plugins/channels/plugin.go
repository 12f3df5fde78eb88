package channels

import (
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/posrt/posrt/plugins/base"
	channelspb "github.com/posrt/posrt/plugins/channels/proto"
)

// NewPlugin returns the go-plugin glue of the payment-channel kind serving impl;
// the runtime's side passes nil.
func NewPlugin(impl Channel) goplugin.Plugin {
	return &base.Glue[Channel]{
		Impl:     impl,
		Register: func(s *grpc.Server, impl Channel) { channelspb.RegisterChannelServer(s, &server{impl: impl}) },
		NewClient: func(c *grpc.ClientConn) Channel {
			return &client{BaseClient: base.NewBaseClient(c), c: channelspb.NewChannelClient(c)}
		},
	}
}

// Serve runs the current process as a payment channel plugin. It does not return.
func Serve(impl Channel) {
	base.Serve(base.KindChannel, NewPlugin(impl))
}
