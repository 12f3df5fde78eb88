package scanner

import (
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/posrt/posrt/plugins/base"
	scannerpb "github.com/posrt/posrt/plugins/scanner/proto"
)

// NewPlugin returns the go-plugin glue of the scanner kind serving impl;
// the runtime's side passes nil.
func NewPlugin(impl Scanner) goplugin.Plugin {
	return &base.Glue[Scanner]{
		Impl:     impl,
		Register: func(s grpc.ServiceRegistrar, impl Scanner) { scannerpb.RegisterScannerServer(s, &server{impl: impl}) },
		NewClient: func(c grpc.ClientConnInterface) Scanner {
			return &client{BaseClient: base.NewBaseClient(c), c: scannerpb.NewScannerClient(c)}
		},
	}
}

// Serve runs the current process as a scanner plugin. It does not return.
func Serve(impl Scanner) {
	base.Serve(base.KindScanner, NewPlugin(impl))
}
