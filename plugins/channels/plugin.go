package channels

import (
	"context"
	"fmt"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/posrt/posrt/plugins/base"
	channelspb "github.com/posrt/posrt/plugins/channels/proto"
)

// SecurityBrokerID is the go-plugin broker id on which the runtime serves
// the Security service to an acquirer plugin. It is fixed, so no request
// and no configuration carries it; it lies far above the ids go-plugin's
// GRPCBroker.NextId hands out (1, 2, 3, ...), which posrt does not use.
const SecurityBrokerID uint32 = 0x53454300 // "SEC\x00"

// NewAcquirerPlugin returns the go-plugin glue of the acquirer kind serving
// impl, on the plugin's side. When impl is a SecurityUser the glue calls
// its UseSecurity, before the first request, with a client of the
// runtime's Security service. The runtime's side uses AcquirerHostPlugin.
func NewAcquirerPlugin(impl Acquirer) goplugin.Plugin {
	return &base.Glue[Acquirer]{
		Impl: impl,
		Register: func(s grpc.ServiceRegistrar, impl Acquirer) {
			channelspb.RegisterAcquirerServer(s, &server{impl: impl})
		},
		NewClient: func(c grpc.ClientConnInterface) Acquirer {
			return &client{BaseClient: base.NewBaseClient(c), c: channelspb.NewAcquirerClient(c)}
		},
		ServeBroker: func(broker *goplugin.GRPCBroker, impl Acquirer) {
			if u, ok := impl.(SecurityUser); ok {
				u.UseSecurity(newBrokeredSecurity(broker))
			}
		},
	}
}

// AcquirerHostPlugin returns the go-plugin glue of the acquirer kind on the
// runtime's side: each client it builds offers sec to the plugin on the
// broker under SecurityBrokerID. A nil sec offers nothing, and a plugin
// that needs MACs then fails its requests with ErrNotSent.
func AcquirerHostPlugin(sec Security) goplugin.Plugin {
	g := NewAcquirerPlugin(nil).(*base.Glue[Acquirer])
	if sec != nil {
		g.ClientBroker = func(broker *goplugin.GRPCBroker) {
			go broker.AcceptAndServe(SecurityBrokerID, func(opts []grpc.ServerOption) *grpc.Server {
				s := grpc.NewServer(opts...)
				channelspb.RegisterSecurityServer(s, &securityServer{impl: sec})
				return s
			})
		}
	}
	return g
}

// ServeAcquirer runs the current process as an acquirer plugin. It does not
// return.
func ServeAcquirer(impl Acquirer) {
	base.Serve(base.KindAcquirer, NewAcquirerPlugin(impl))
}

// brokeredSecurity is the plugin's client of the runtime's Security
// service. go-plugin's broker keeps the address the runtime offers for
// five seconds only, so the glue listens for it from the plugin's start,
// in the background, and a call waits for it; the gRPC connection itself
// is made on the first call.
type brokeredSecurity struct {
	ready chan struct{} // closed once c is set
	c     securityClient
}

func newBrokeredSecurity(broker *goplugin.GRPCBroker) *brokeredSecurity {
	s := &brokeredSecurity{ready: make(chan struct{})}
	go s.pickUp(broker)
	return s
}

// pickUp waits for the runtime's offer. Each Dial waits up to five seconds
// for it; an offer that comes between two Dials stays in the broker until
// the next one takes it.
func (s *brokeredSecurity) pickUp(broker *goplugin.GRPCBroker) {
	for {
		conn, err := broker.Dial(SecurityBrokerID)
		if err == nil {
			s.c = securityClient{c: channelspb.NewSecurityClient(conn)}
			close(s.ready)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *brokeredSecurity) client(ctx context.Context) (securityClient, error) {
	select {
	case <-s.ready:
		return s.c, nil
	case <-ctx.Done():
		return securityClient{}, fmt.Errorf("waiting for the runtime's security service: %w", ctx.Err())
	}
}

func (s *brokeredSecurity) CalculateMAC(ctx context.Context, data []byte) ([]byte, error) {
	c, err := s.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.CalculateMAC(ctx, data)
}

func (s *brokeredSecurity) VerifyMAC(ctx context.Context, data, mac []byte) error {
	c, err := s.client(ctx)
	if err != nil {
		return err
	}
	return c.VerifyMAC(ctx, data, mac)
}
