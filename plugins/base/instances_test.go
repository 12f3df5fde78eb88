package base_test

import (
	"context"
	"strings"
	"testing"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/posrt/posrt/plugins/base"
	basepb "github.com/posrt/posrt/plugins/base/proto"
)

// named is a plugin that answers with its own name: Info's Name, and the
// echo stream below.
type named struct{ name string }

func (n named) Info(context.Context) (base.Info, error) {
	return base.Info{Kind: "test", Name: n.name, APIVersions: []string{"v1"}}, nil
}
func (n named) Configure(context.Context, string, map[string]string) error { return nil }
func (n named) Health(context.Context) (base.Health, error) {
	return base.Health{State: base.StateIdle, Detail: n.name}, nil
}

// echoDesc is a service with one server stream that sends the serving
// instance's name, to show streams are routed as unary calls are.
var echoDesc = grpc.ServiceDesc{
	ServiceName: "posrt.test.v1.Echo",
	HandlerType: (*any)(nil),
	Streams: []grpc.StreamDesc{{StreamName: "Names", ServerStreams: true, Handler: func(srv any, stream grpc.ServerStream) error {
		if err := stream.RecvMsg(&wrapperspb.StringValue{}); err != nil {
			return err
		}
		return stream.SendMsg(wrapperspb.String(srv.(named).name))
	}}},
}

func glue(name string, broker bool) goplugin.Plugin {
	g := &base.Glue[base.Base]{
		Impl:      named{name},
		Register:  func(r grpc.ServiceRegistrar, impl base.Base) { r.RegisterService(&echoDesc, impl) },
		NewClient: func(c grpc.ClientConnInterface) base.Base { return base.NewBaseClient(c) },
	}
	if broker {
		g.ServeBroker = func(*goplugin.GRPCBroker, base.Base) {}
	}
	return g
}

// serveInstances serves p in memory over real gRPC and returns the raw
// connection.
func serveInstances(t *testing.T, p goplugin.Plugin) *grpc.ClientConn {
	t.Helper()
	client, server := goplugin.TestPluginGRPCConn(t, false, map[string]goplugin.Plugin{base.InstancesPluginName: p})
	t.Cleanup(func() {
		server.Stop()
		_ = client.Close()
	})
	return client.Conn
}

func withKey(key string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), base.InstanceMetadata, key)
}

func echoName(ctx context.Context, conn *grpc.ClientConn) (string, error) {
	s, err := conn.NewStream(ctx, &echoDesc.Streams[0], "/posrt.test.v1.Echo/Names")
	if err != nil {
		return "", err
	}
	if err := s.SendMsg(wrapperspb.String("")); err != nil {
		return "", err
	}
	if err := s.CloseSend(); err != nil {
		return "", err
	}
	var out wrapperspb.StringValue
	if err := s.RecvMsg(&out); err != nil {
		return "", err
	}
	return out.GetValue(), nil
}

func TestInstancesRouteEachCallByItsKey(t *testing.T) {
	p, err := base.Instances(map[string]goplugin.Plugin{"wechat": glue("wechat", false), "alipay": glue("alipay", false)})
	if err != nil {
		t.Fatal(err)
	}
	conn := serveInstances(t, p)
	c := base.NewBaseClient(conn)
	for _, key := range []string{"wechat", "alipay", "wechat"} {
		info, err := c.Info(withKey(key))
		if err != nil || info.Name != key {
			t.Fatalf("Info for %q = %+v, %v", key, info, err)
		}
		h, err := c.Health(withKey(key))
		if err != nil || h.Detail != key {
			t.Fatalf("Health for %q = %+v, %v", key, h, err)
		}
		name, err := echoName(withKey(key), conn)
		if err != nil || name != key {
			t.Fatalf("stream for %q answered by %q, %v", key, name, err)
		}
	}

	// Raw status codes, as the runtime's wrapper sees them.
	raw := func(ctx context.Context) error {
		return conn.Invoke(ctx, "/posrt.base.v1.Base/Info", &basepb.InfoRequest{}, &basepb.InfoResponse{})
	}
	for _, tc := range []struct {
		ctx  context.Context
		code codes.Code
	}{{context.Background(), codes.FailedPrecondition}, {withKey("unionpay-qr"), codes.NotFound}} {
		err := raw(tc.ctx)
		if status.Code(err) != tc.code || !strings.Contains(err.Error(), "alipay, wechat") {
			t.Errorf("Info = %v, want %v naming the instances served", err, tc.code)
		}
		if _, err := echoName(tc.ctx, conn); status.Code(err) != tc.code {
			t.Errorf("stream = %v, want %v", err, tc.code)
		}
	}
	if err := raw(withKey("unionpay-qr")); !strings.Contains(err.Error(), `"unionpay-qr"`) {
		t.Errorf("unknown key error %v does not name the key", err)
	}
}

func TestInstancesOfOneTakeCallsWithoutAKey(t *testing.T) {
	p, err := base.Instances(map[string]goplugin.Plugin{"": glue("solo", false)})
	if err != nil {
		t.Fatal(err)
	}
	conn := serveInstances(t, p)
	if info, err := base.NewBaseClient(conn).Info(context.Background()); err != nil || info.Name != "solo" {
		t.Fatalf("Info without a key = %+v, %v", info, err)
	}
	// A runtime that sends a key to a process of one plugin is told so.
	err = conn.Invoke(withKey("printer"), "/posrt.base.v1.Base/Info", &basepb.InfoRequest{}, &basepb.InfoResponse{})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("Info with a key to a single plugin = %v, want NotFound", err)
	}
}

func TestInstancesRefuseWhatCannotShareAProcess(t *testing.T) {
	if _, err := base.Instances(map[string]goplugin.Plugin{"a": glue("a", true), "b": glue("b", true)}); err == nil || !strings.Contains(err.Error(), "a, b") {
		t.Errorf("two broker users in one process: %v", err)
	}
	if _, err := base.Instances(map[string]goplugin.Plugin{"a": glue("a", true), "b": glue("b", false)}); err != nil {
		t.Errorf("one broker user beside another plugin: %v", err)
	}
	if _, err := base.Instances(map[string]goplugin.Plugin{"x": goplugin.NetRPCUnsupportedPlugin{}}); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("a glue that is not base.Glue: %v", err)
	}
	if _, err := base.Instances(nil); err == nil {
		t.Error("no instances accepted")
	}
}
