package base

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"

	basepb "github.com/posrt/posrt/plugins/base/proto"
)

// RegisterBase serves impl's Info, Configure and Health on s. Each kind's
// go-plugin GRPCServer calls it beside registering its own service.
func RegisterBase(s grpc.ServiceRegistrar, impl Base) {
	basepb.RegisterBaseServer(s, &baseServer{impl: impl})
}

type baseServer struct {
	basepb.UnimplementedBaseServer
	impl Base
}

func (s *baseServer) Info(ctx context.Context, _ *basepb.InfoRequest) (*basepb.InfoResponse, error) {
	info, err := s.impl.Info(ctx)
	if err != nil {
		return nil, ToStatus(err, nil)
	}
	return &basepb.InfoResponse{Kind: info.Kind, Name: info.Name, Version: info.Version, ApiVersions: info.APIVersions, Capabilities: info.Capabilities}, nil
}

func (s *baseServer) Configure(ctx context.Context, req *basepb.ConfigureRequest) (*basepb.ConfigureResponse, error) {
	if err := s.impl.Configure(ctx, req.GetApiVersion(), req.GetConfig()); err != nil {
		return nil, ToStatus(err, nil)
	}
	return &basepb.ConfigureResponse{}, nil
}

func (s *baseServer) Health(ctx context.Context, _ *basepb.HealthRequest) (*basepb.HealthResponse, error) {
	h, err := s.impl.Health(ctx)
	if err != nil {
		return nil, ToStatus(err, nil)
	}
	return healthToProto(h), nil
}

// Watch streams impl's events: its own when it is a Watcher, else the
// changes of its Health probed every ProbeInterval in this process.
func (s *baseServer) Watch(_ *basepb.WatchRequest, stream basepb.Base_WatchServer) error {
	send := func(e Event) error { return stream.Send(eventToProto(e)) }
	if w, ok := s.impl.(Watcher); ok {
		return w.Watch(stream.Context(), send)
	}
	return probe(stream.Context(), s.impl, ProbeInterval, send)
}

func healthToProto(h Health) *basepb.HealthResponse {
	return &basepb.HealthResponse{State: h.State, Detail: h.Detail, Conditions: h.Conditions}
}

func healthFromProto(r *basepb.HealthResponse) Health {
	return Health{State: r.GetState(), Detail: r.GetDetail(), Conditions: r.GetConditions()}.normalized()
}

var eventTypes = map[EventType]basepb.DeviceEvent_Type{
	EventStatus: basepb.DeviceEvent_TYPE_STATUS,
	EventError:  basepb.DeviceEvent_TYPE_ERROR,
}

func eventToProto(e Event) *basepb.DeviceEvent {
	return &basepb.DeviceEvent{Type: eventTypes[e.Type], Health: healthToProto(e.Health), ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage, AtUnixNano: e.At.UnixNano()}
}

func eventFromProto(p *basepb.DeviceEvent) (Event, error) {
	e := Event{Health: healthFromProto(p.GetHealth()), ErrorCode: p.GetErrorCode(), ErrorMessage: p.GetErrorMessage(), At: time.Unix(0, p.GetAtUnixNano())}
	for t, pt := range eventTypes {
		if pt == p.GetType() {
			e.Type = t
		}
	}
	if e.Type == "" {
		return Event{}, fmt.Errorf("the plugin sent a device event of unknown type %v", p.GetType())
	}
	return e, nil
}

// BaseClient is the host side of the base service; each kind's client
// embeds it so that every dispensed plugin satisfies Base.
type BaseClient struct {
	c basepb.BaseClient
}

// NewBaseClient returns the base client over conn.
func NewBaseClient(conn grpc.ClientConnInterface) BaseClient {
	return BaseClient{c: basepb.NewBaseClient(conn)}
}

// Info implements Base.
func (b BaseClient) Info(ctx context.Context) (Info, error) {
	r, err := b.c.Info(ctx, &basepb.InfoRequest{})
	if err != nil {
		return Info{}, FromStatus(err, nil)
	}
	return Info{Kind: r.GetKind(), Name: r.GetName(), Version: r.GetVersion(), APIVersions: r.GetApiVersions(), Capabilities: r.GetCapabilities()}, nil
}

// Configure implements Base.
func (b BaseClient) Configure(ctx context.Context, apiVersion string, config map[string]string) error {
	_, err := b.c.Configure(ctx, &basepb.ConfigureRequest{ApiVersion: apiVersion, Config: config})
	return FromStatus(err, nil)
}

// Health implements Base.
func (b BaseClient) Health(ctx context.Context) (Health, error) {
	r, err := b.c.Health(ctx, &basepb.HealthRequest{})
	if err != nil {
		return Health{}, FromStatus(err, nil)
	}
	return healthFromProto(r), nil
}

// Watch implements Watcher over the plugin's Watch stream. It returns nil
// when ctx ends, and the stream's error (a plugin without Watch:
// codes.Unimplemented) otherwise.
func (b BaseClient) Watch(ctx context.Context, send func(Event) error) error {
	stream, err := b.c.Watch(ctx, &basepb.WatchRequest{})
	if err != nil {
		return watchEnd(ctx, err)
	}
	for {
		p, err := stream.Recv()
		if err != nil {
			return watchEnd(ctx, err)
		}
		e, err := eventFromProto(p)
		if err != nil {
			return err
		}
		if err := send(e); err != nil {
			return err
		}
	}
}

func watchEnd(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
