package base

import (
	"context"

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
	return &basepb.HealthResponse{State: h.State, Detail: h.Detail}, nil
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
	return Health{State: r.GetState(), Detail: r.GetDetail()}, nil
}
