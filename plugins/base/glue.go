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
	// Register registers the kind's gRPC service for impl on r: the
	// go-plugin server itself for a process of one plugin, or, for one
	// instance of several in a process (ServeInstances), a registrar that
	// collects the service so that calls are routed to impl by instance.
	Register func(r grpc.ServiceRegistrar, impl T)
	// NewClient returns the kind's client over conn: the process's own
	// connection, or the runtime's per-instance wrapper around it.
	NewClient func(conn grpc.ClientConnInterface) T
	// ServeBroker, if set, is called on the plugin side with go-plugin's
	// broker and Impl before the services are registered: a kind whose
	// plugins call services of the runtime connects to them here.
	ServeBroker func(broker *goplugin.GRPCBroker, impl T)
	// ClientBroker, if set, is called on the runtime's side with the
	// broker each time a client is built: a kind that serves its plugins
	// a service of the runtime's offers it here.
	ClientBroker func(broker *goplugin.GRPCBroker)
}

// ClientBuilder is the runtime's side of a kind's glue as the plugin host
// uses it: it builds the kind's client over a connection of the host's
// choosing (one that names the instance, bounds and counts each call).
// Every Glue is one.
type ClientBuilder interface {
	BuildClient(broker *goplugin.GRPCBroker, conn grpc.ClientConnInterface) Base
	// UsesBroker reports whether the kind has broker hooks; a process
	// may hold at most one instance that has them.
	UsesBroker() bool
}

// instanceServer is the plugin side of a Glue as ServeInstances uses it.
type instanceServer interface {
	registerServices(broker *goplugin.GRPCBroker, r grpc.ServiceRegistrar)
	UsesBroker() bool
}

var (
	_ goplugin.GRPCPlugin = (*Glue[Base])(nil)
	_ ClientBuilder       = (*Glue[Base])(nil)
	_ instanceServer      = (*Glue[Base])(nil)
)

// GRPCServer implements goplugin.GRPCPlugin.
func (g *Glue[T]) GRPCServer(broker *goplugin.GRPCBroker, s *grpc.Server) error {
	g.registerServices(broker, s)
	return nil
}

func (g *Glue[T]) registerServices(broker *goplugin.GRPCBroker, r grpc.ServiceRegistrar) {
	if g.ServeBroker != nil {
		g.ServeBroker(broker, g.Impl)
	}
	RegisterBase(r, g.Impl)
	g.Register(r, g.Impl)
}

// GRPCClient implements goplugin.GRPCPlugin; it returns a T.
func (g *Glue[T]) GRPCClient(_ context.Context, broker *goplugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return g.BuildClient(broker, c), nil
}

// BuildClient implements ClientBuilder; it returns a T.
func (g *Glue[T]) BuildClient(broker *goplugin.GRPCBroker, conn grpc.ClientConnInterface) Base {
	if g.ClientBroker != nil {
		g.ClientBroker(broker)
	}
	return g.NewClient(conn)
}

// UsesBroker implements ClientBuilder.
func (g *Glue[T]) UsesBroker() bool { return g.ServeBroker != nil || g.ClientBroker != nil }
