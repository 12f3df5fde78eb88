// Command trivialplugin is the smallest go-plugin plugin with posrt's
// handshake: the base service only. The cold-start benchmark's floor
// starts it.
package main

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/posrt/posrt/plugins/base"
)

type trivial struct{}

func (trivial) Info(context.Context) (base.Info, error) {
	return base.Info{Kind: "trivial", Name: "trivial", Version: "0", APIVersions: []string{"v1"}}, nil
}
func (trivial) Configure(context.Context, string, map[string]string) error { return nil }
func (trivial) Health(context.Context) (base.Health, error) {
	return base.Health{State: base.StateIdle}, nil
}

// Plugin serves the base service.
type Plugin struct {
	goplugin.NetRPCUnsupportedPlugin
}

// GRPCServer implements goplugin.GRPCPlugin.
func (Plugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	base.RegisterBase(s, trivial{})
	return nil
}

// GRPCClient implements goplugin.GRPCPlugin.
func (Plugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return base.NewBaseClient(c), nil
}

func main() {
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: base.Handshake,
		Plugins:         goplugin.PluginSet{"trivial": Plugin{}},
		GRPCServer:      goplugin.DefaultGRPCServer,
	})
}
