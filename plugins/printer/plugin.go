package printer

import (
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/posrt/posrt/plugins/base"
	printerpb "github.com/posrt/posrt/plugins/printer/proto"
)

// NewPlugin returns the go-plugin glue of the printer kind serving impl;
// the runtime's side passes nil.
func NewPlugin(impl Printer) goplugin.Plugin {
	return &base.Glue[Printer]{
		Impl:     impl,
		Register: func(s grpc.ServiceRegistrar, impl Printer) { printerpb.RegisterPrinterServer(s, &server{impl: impl}) },
		NewClient: func(c grpc.ClientConnInterface) Printer {
			return &client{BaseClient: base.NewBaseClient(c), c: printerpb.NewPrinterClient(c)}
		},
	}
}

// Serve runs the current process as a printer plugin. It does not return.
func Serve(impl Printer) {
	base.Serve(base.KindPrinter, NewPlugin(impl))
}
