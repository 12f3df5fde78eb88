// Command trivialplugin is the smallest go-plugin plugin with posrt's
// handshake: the base service only. The cold-start benchmark's floor
// starts it.
package main

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/posrt/posrt/runtime/plugin"
)

type trivial struct{}

func (trivial) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Kind: "trivial", Name: "trivial", Version: "0", APIVersions: []string{"v1"}}, nil
}
func (trivial) Configure(context.Context, string, map[string]string) error { return nil }
func (trivial) Health(context.Context) (plugin.Health, error) {
	return plugin.Health{State: plugin.StateIdle}, nil
}

// Plugin serves the base service.
type Plugin struct {
	goplugin.NetRPCUnsupportedPlugin
}

// GRPCServer implements goplugin.GRPCPlugin.
func (Plugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	plugin.RegisterBase(s, trivial{})
	return nil
}

// GRPCClient implements goplugin.GRPCPlugin.
func (Plugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return plugin.NewBaseClient(c), nil
}

func main() {
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: plugin.Handshake,
		Plugins:         goplugin.PluginSet{"trivial": Plugin{}},
		GRPCServer:      goplugin.DefaultGRPCServer,
	})
}
