package printer

import (
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	printerpb "github.com/posrt/posrt/plugins/printer/proto"
	"github.com/posrt/posrt/runtime/plugin"
)

// NewPlugin returns the go-plugin glue of the printer kind serving impl;
// the runtime's side passes nil.
func NewPlugin(impl Printer) goplugin.Plugin {
	return &plugin.Glue[Printer]{
		Impl:     impl,
		Register: func(s *grpc.Server, impl Printer) { printerpb.RegisterPrinterServer(s, &server{impl: impl}) },
		NewClient: func(c *grpc.ClientConn) Printer {
			return &client{BaseClient: plugin.NewBaseClient(c), c: printerpb.NewPrinterClient(c)}
		},
	}
}

// Serve runs the current process as a printer plugin. It does not return.
func Serve(impl Printer) {
	plugin.Serve(plugin.KindPrinter, NewPlugin(impl))
}
