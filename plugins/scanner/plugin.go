package scanner

import (
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	scannerpb "github.com/posrt/posrt/plugins/scanner/proto"
	"github.com/posrt/posrt/runtime/plugin"
)

// NewPlugin returns the go-plugin glue of the scanner kind serving impl;
// the runtime's side passes nil.
func NewPlugin(impl Scanner) goplugin.Plugin {
	return &plugin.Glue[Scanner]{
		Impl:     impl,
		Register: func(s *grpc.Server, impl Scanner) { scannerpb.RegisterScannerServer(s, &server{impl: impl}) },
		NewClient: func(c *grpc.ClientConn) Scanner {
			return &client{BaseClient: plugin.NewBaseClient(c), c: scannerpb.NewScannerClient(c)}
		},
	}
}

// Serve runs the current process as a scanner plugin. It does not return.
func Serve(impl Scanner) {
	plugin.Serve(plugin.KindScanner, NewPlugin(impl))
}
