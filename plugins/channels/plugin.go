package channels

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	channelspb "github.com/posrt/posrt/plugins/channels/proto"
	"github.com/posrt/posrt/runtime/plugin"
)

// Plugin is the go-plugin glue of the channel kind. Impl is set on the
// plugin side only.
type Plugin struct {
	goplugin.NetRPCUnsupportedPlugin
	Impl Channel
}

var _ goplugin.GRPCPlugin = (*Plugin)(nil)

// GRPCServer implements goplugin.GRPCPlugin.
func (p *Plugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	plugin.RegisterBase(s, p.Impl)
	channelspb.RegisterChannelServer(s, &server{impl: p.Impl})
	return nil
}

// GRPCClient implements goplugin.GRPCPlugin; it returns a Channel.
func (p *Plugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return &client{BaseClient: plugin.NewBaseClient(c), c: channelspb.NewChannelClient(c)}, nil
}

// Serve runs the current process as a channel plugin. It does not return.
func Serve(impl Channel) {
	plugin.Serve(plugin.KindChannel, &Plugin{Impl: impl})
}
