package base

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Glue is the go-plugin glue of one kind of plugin, T being the kind's
// contract: on the plugin side it serves the base service and the kind's
// own for Impl; on the runtime's side it builds the kind's client. Each
// kind's NewPlugin fills it in.
type Glue[T Base] struct {
	goplugin.NetRPCUnsupportedPlugin
	// Impl is the implementation served; nil on the runtime's side.
	Impl T
	// Register registers the kind's gRPC service for impl on s.
	Register func(s *grpc.Server, impl T)
	// NewClient returns the kind's client over conn.
	NewClient func(conn *grpc.ClientConn) T
}

var _ goplugin.GRPCPlugin = (*Glue[Base])(nil)

// GRPCServer implements goplugin.GRPCPlugin.
func (g *Glue[T]) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	RegisterBase(s, g.Impl)
	g.Register(s, g.Impl)
	return nil
}

// GRPCClient implements goplugin.GRPCPlugin; it returns a T.
func (g *Glue[T]) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return g.NewClient(c), nil
}
