package pinpad

import (
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/posrt/posrt/plugins/base"
	pinpadpb "github.com/posrt/posrt/plugins/pinpad/proto"
)

// NewPlugin returns the go-plugin glue of the PIN pad kind serving impl;
// the runtime's side passes nil.
func NewPlugin(impl PinPad) goplugin.Plugin {
	return &base.Glue[PinPad]{
		Impl:     impl,
		Register: func(s grpc.ServiceRegistrar, impl PinPad) { pinpadpb.RegisterPinPadServer(s, &server{impl: impl}) },
		NewClient: func(c grpc.ClientConnInterface) PinPad {
			return &client{BaseClient: base.NewBaseClient(c), c: pinpadpb.NewPinPadClient(c)}
		},
	}
}

// Serve runs the current process as a PIN pad plugin. It does not return.
func Serve(impl PinPad) {
	base.Serve(base.KindPinPad, NewPlugin(impl))
}
