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
	// ServeBroker, if set, is called on the plugin side with go-plugin's
	// broker and Impl before the services are registered: a kind whose
	// plugins call services of the runtime connects to them here.
	ServeBroker func(broker *goplugin.GRPCBroker, impl T)
	// ClientBroker, if set, is called on the runtime's side with the
	// broker each time a client is built: a kind that serves its plugins
	// a service of the runtime's offers it here.
	ClientBroker func(broker *goplugin.GRPCBroker)
}

var _ goplugin.GRPCPlugin = (*Glue[Base])(nil)

// GRPCServer implements goplugin.GRPCPlugin.
func (g *Glue[T]) GRPCServer(broker *goplugin.GRPCBroker, s *grpc.Server) error {
	if g.ServeBroker != nil {
		g.ServeBroker(broker, g.Impl)
	}
	RegisterBase(s, g.Impl)
	g.Register(s, g.Impl)
	return nil
}

// GRPCClient implements goplugin.GRPCPlugin; it returns a T.
func (g *Glue[T]) GRPCClient(_ context.Context, broker *goplugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	if g.ClientBroker != nil {
		g.ClientBroker(broker)
	}
	return g.NewClient(c), nil
}
