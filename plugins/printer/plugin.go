package printer

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	printerpb "github.com/posrt/posrt/plugins/printer/proto"
	"github.com/posrt/posrt/runtime/plugin"
)

// Plugin is the go-plugin glue of the printer kind. Impl is set on the
// plugin side only.
type Plugin struct {
	goplugin.NetRPCUnsupportedPlugin
	Impl Printer
}

var _ goplugin.GRPCPlugin = (*Plugin)(nil)

// GRPCServer implements goplugin.GRPCPlugin.
func (p *Plugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	plugin.RegisterBase(s, p.Impl)
	printerpb.RegisterPrinterServer(s, &server{impl: p.Impl})
	return nil
}

// GRPCClient implements goplugin.GRPCPlugin; it returns a Printer.
func (p *Plugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return &client{BaseClient: plugin.NewBaseClient(c), c: printerpb.NewPrinterClient(c)}, nil
}

// Serve runs the current process as a printer plugin. It does not return.
func Serve(impl Printer) {
	plugin.Serve(plugin.KindPrinter, &Plugin{Impl: impl})
}
