package pinpad

import (
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pinpadpb "github.com/posrt/posrt/plugins/pinpad/proto"
	"github.com/posrt/posrt/runtime/plugin"
)

// NewPlugin returns the go-plugin glue of the PIN pad kind serving impl;
// the runtime's side passes nil.
func NewPlugin(impl PinPad) goplugin.Plugin {
	return &plugin.Glue[PinPad]{
		Impl:     impl,
		Register: func(s *grpc.Server, impl PinPad) { pinpadpb.RegisterPinPadServer(s, &server{impl: impl}) },
		NewClient: func(c *grpc.ClientConn) PinPad {
			return &client{BaseClient: plugin.NewBaseClient(c), c: pinpadpb.NewPinPadClient(c)}
		},
	}
}

// Serve runs the current process as a PIN pad plugin. It does not return.
func Serve(impl PinPad) {
	plugin.Serve(plugin.KindPinPad, NewPlugin(impl))
}
