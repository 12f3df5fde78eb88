package bench

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/posrt/posrt/plugins/base"
)

// trivialPlugin is the host side of testdata/trivialplugin.
type trivialPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
}

func (trivialPlugin) GRPCServer(*goplugin.GRPCBroker, *grpc.Server) error { return nil }

func (trivialPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return base.NewBaseClient(c), nil
}
