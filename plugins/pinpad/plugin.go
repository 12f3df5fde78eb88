package pinpad

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pinpadpb "github.com/posrt/posrt/plugins/pinpad/proto"
	"github.com/posrt/posrt/runtime/plugin"
)

// Plugin is the go-plugin glue of the PIN pad kind. Impl is set on the
// plugin side only.
type Plugin struct {
	goplugin.NetRPCUnsupportedPlugin
	Impl PinPad
}

var _ goplugin.GRPCPlugin = (*Plugin)(nil)

// GRPCServer implements goplugin.GRPCPlugin.
func (p *Plugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	plugin.RegisterBase(s, p.Impl)
	pinpadpb.RegisterPinPadServer(s, &server{impl: p.Impl})
	return nil
}

// GRPCClient implements goplugin.GRPCPlugin; it returns a PinPad.
func (p *Plugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return &client{BaseClient: plugin.NewBaseClient(c), c: pinpadpb.NewPinPadClient(c)}, nil
}

// Serve runs the current process as a PIN pad plugin. It does not return.
func Serve(impl PinPad) {
	plugin.Serve(plugin.KindPinPad, &Plugin{Impl: impl})
}
