package base

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// InstanceMetadata is the gRPC metadata key naming the instance a call is
// for, in a plugin process that serves several (ServeInstances). Its value
// is the instance key: the plugin's configured name. A call to a process of
// one plugin carries none.
const InstanceMetadata = "posrt-instance"

// InstancesPluginName is the one go-plugin plugin name a process of
// several instances serves: the runtime dispenses each instance through its
// own client-side glue, so the name is never looked up.
const InstancesPluginName = "posrt-instances"

// Instances returns the go-plugin glue that serves several plugins in one
// process, instances mapping each instance key to that instance's glue
// (a kind's NewPlugin with its implementation). Every posrt service is
// registered once and routes each call by its InstanceMetadata. At most one
// instance may have broker hooks (an acquirer): the broker's ids are the
// process's, not an instance's.
func Instances(instances map[string]goplugin.Plugin) (goplugin.Plugin, error) {
	if len(instances) == 0 {
		return nil, errors.New("serving instances: none given")
	}
	r := &instancesPlugin{servers: map[string]instanceServer{}}
	var brokered []string
	for key, p := range instances {
		s, ok := p.(instanceServer)
		if !ok {
			return nil, fmt.Errorf("serving instance %q: its glue %T is not a base.Glue and cannot share a process", key, p)
		}
		if s.UsesBroker() {
			brokered = append(brokered, key)
		}
		r.servers[key] = s
		r.keys = append(r.keys, key)
	}
	sort.Strings(r.keys)
	if len(brokered) > 1 {
		sort.Strings(brokered)
		return nil, fmt.Errorf("serving instances: %s all use go-plugin's broker, which one process can offer to one instance only; run them in processes of their own", strings.Join(brokered, ", "))
	}
	return r, nil
}

// instancesPlugin serves several instances through routed services.
type instancesPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	keys    []string // sorted
	servers map[string]instanceServer
}

// GRPCServer implements goplugin.GRPCPlugin: it collects every instance's
// services and registers each service once, routed.
func (p *instancesPlugin) GRPCServer(broker *goplugin.GRPCBroker, s *grpc.Server) error {
	services := map[string]*routedService{}
	var order []string
	for _, key := range p.keys {
		c := &collector{}
		p.servers[key].registerServices(broker, c)
		for _, reg := range c.regs {
			rs, ok := services[reg.desc.ServiceName]
			if !ok {
				rs = &routedService{desc: reg.desc, impls: map[string]any{}}
				services[reg.desc.ServiceName] = rs
				order = append(order, reg.desc.ServiceName)
			}
			rs.impls[key] = reg.impl
			rs.keys = append(rs.keys, key)
		}
	}
	for _, name := range order {
		rs := services[name]
		s.RegisterService(rs.routedDesc(), rs)
	}
	return nil
}

// GRPCClient implements goplugin.GRPCPlugin; the runtime builds its
// clients per instance instead.
func (p *instancesPlugin) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (interface{}, error) {
	return nil, errors.New("the instances glue serves plugins; the runtime dispenses each instance through its kind's glue")
}

// collector is a grpc.ServiceRegistrar that keeps what is registered on it.
type collector struct {
	regs []registration
}

type registration struct {
	desc *grpc.ServiceDesc
	impl any
}

func (c *collector) RegisterService(desc *grpc.ServiceDesc, impl any) {
	c.regs = append(c.regs, registration{desc: desc, impl: impl})
}

// routedService is one gRPC service implemented by several instances.
type routedService struct {
	desc  *grpc.ServiceDesc
	keys  []string // sorted, the instances that implement it
	impls map[string]any
}

// pick returns the implementation a call is for: the one its
// InstanceMetadata names, or, without one, the only implementation.
func (rs *routedService) pick(ctx context.Context) (any, error) {
	keys := metadata.ValueFromIncomingContext(ctx, InstanceMetadata)
	if len(keys) == 0 {
		if len(rs.keys) == 1 {
			return rs.impls[rs.keys[0]], nil
		}
		return nil, status.Errorf(codes.FailedPrecondition, "this plugin process serves %s to several instances (%s): a call must name one in the %s metadata",
			rs.desc.ServiceName, rs.served(), InstanceMetadata)
	}
	if impl, ok := rs.impls[keys[0]]; ok && len(keys) == 1 {
		return impl, nil
	}
	return nil, status.Errorf(codes.NotFound, "this plugin process serves %s to no instance %q; it serves %s", rs.desc.ServiceName, strings.Join(keys, ","), rs.served())
}

func (rs *routedService) served() string {
	names := make([]string, len(rs.keys))
	for i, k := range rs.keys {
		if k == "" {
			k = `"" (the process's one unnamed plugin)`
		}
		names[i] = k
	}
	return strings.Join(names, ", ")
}

// routedDesc is a copy of the generated descriptor whose handlers pick the
// implementation per call and hand it to the generated handler as srv.
func (rs *routedService) routedDesc() *grpc.ServiceDesc {
	d := *rs.desc
	d.HandlerType = (*any)(nil) // the routedService is registered, not an implementation
	d.Methods = make([]grpc.MethodDesc, len(rs.desc.Methods))
	for i, m := range rs.desc.Methods {
		h := m.Handler
		d.Methods[i] = grpc.MethodDesc{MethodName: m.MethodName, Handler: func(_ any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			impl, err := rs.pick(ctx)
			if err != nil {
				return nil, err
			}
			return h(impl, ctx, dec, ic)
		}}
	}
	d.Streams = make([]grpc.StreamDesc, len(rs.desc.Streams))
	for i, sd := range rs.desc.Streams {
		h := sd.Handler
		sd.Handler = func(_ any, stream grpc.ServerStream) error {
			impl, err := rs.pick(stream.Context())
			if err != nil {
				return err
			}
			return h(impl, stream)
		}
		d.Streams[i] = sd
	}
	return &d
}
