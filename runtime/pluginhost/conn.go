package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"strings"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/posrt/posrt/plugins/base"
)

// posrtServices prefixes the gRPC methods of posrt's plugin contracts.
const posrtServices = "/posrt."

// instanceConn is one instance's connection: the process's gRPC
// connection, through which every call of the instance's client names the
// instance (in a shared process), gets the instance's deadline, is counted
// in flight for Shutdown, and wakes the supervisor when the transport
// failed. go-plugin's own services (controller, broker, stdio) use the
// process's connection directly: the controller's Shutdown in particular
// must reach a plugin that is closing.
type instanceConn struct {
	cc  *grpc.ClientConn
	in  *Instance
	key string // the instance key sent as base.InstanceMetadata; empty: none
}

var _ grpc.ClientConnInterface = (*instanceConn)(nil)

func (c *instanceConn) named(ctx context.Context) context.Context {
	if c.key == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, base.InstanceMetadata, c.key)
}

// Invoke implements grpc.ClientConnInterface.
func (c *instanceConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	if !strings.HasPrefix(method, posrtServices) {
		return c.cc.Invoke(ctx, method, args, reply, opts...)
	}
	if !c.in.enter() {
		return status.Errorf(codes.Unavailable, "plugin %q: %v", c.in.spec.Name, ErrShuttingDown)
	}
	defer c.in.leave()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.in.spec.CallTimeout)
		defer cancel()
	}
	err := c.cc.Invoke(c.named(ctx), method, args, reply, opts...)
	if status.Code(err) == codes.Unavailable {
		c.in.proc.poke()
	}
	return err
}

// NewStream implements grpc.ClientConnInterface. It counts a stream's
// opening; a stream is a subscription that lives as long as its caller's
// context, so it carries no deadline.
func (c *instanceConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	if !strings.HasPrefix(method, posrtServices) {
		return c.cc.NewStream(ctx, desc, method, opts...)
	}
	if !c.in.enter() {
		return nil, status.Errorf(codes.Unavailable, "plugin %q: %v", c.in.spec.Name, ErrShuttingDown)
	}
	defer c.in.leave()
	s, err := c.cc.NewStream(c.named(ctx), desc, method, opts...)
	if status.Code(err) == codes.Unavailable {
		c.in.proc.poke()
	}
	return s, err
}

// memberPlugin is the client-side go-plugin glue of one instance: it
// builds the kind's client over the instance's own connection.
type memberPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	in *Instance
}

var _ goplugin.GRPCPlugin = memberPlugin{}

func (memberPlugin) GRPCServer(*goplugin.GRPCBroker, *grpc.Server) error {
	return errors.New("the plugin host's glue has no plugin side")
}

func (m memberPlugin) GRPCClient(_ context.Context, broker *goplugin.GRPCBroker, cc *grpc.ClientConn) (interface{}, error) {
	b, ok := m.in.kind.Plugin.(base.ClientBuilder)
	if !ok {
		return nil, fmt.Errorf("the %s kind's glue %T cannot build a client over the host's connection", m.in.spec.Kind, m.in.kind.Plugin)
	}
	conn := &instanceConn{cc: cc, in: m.in}
	if m.in.proc.shared {
		conn.key = m.in.spec.Name
	}
	return b.BuildClient(broker, conn), nil
}
