package scanner

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	scannerpb "github.com/posrt/posrt/plugins/scanner/proto"
	"github.com/posrt/posrt/runtime/plugin"
)

// Plugin is the go-plugin glue of the scanner kind. Impl is set on the
// plugin side only.
type Plugin struct {
	goplugin.NetRPCUnsupportedPlugin
	Impl Scanner
}

var _ goplugin.GRPCPlugin = (*Plugin)(nil)

// GRPCServer implements goplugin.GRPCPlugin.
func (p *Plugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	plugin.RegisterBase(s, p.Impl)
	scannerpb.RegisterScannerServer(s, &server{impl: p.Impl})
	return nil
}

// GRPCClient implements goplugin.GRPCPlugin; it returns a Scanner.
func (p *Plugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return &client{BaseClient: plugin.NewBaseClient(c), c: scannerpb.NewScannerClient(c)}, nil
}

// Serve runs the current process as a scanner plugin. It does not return.
func Serve(impl Scanner) {
	plugin.Serve(plugin.KindScanner, &Plugin{Impl: impl})
}
