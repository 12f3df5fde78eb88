package cli

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/posrt/posrt/runtime/flow"
)

// flowCommand holds the flow tools; `posrt flow worker` is the worker
// process the runtime starts to run the cashier flows in.
func flowCommand() *cli.Command {
	return &cli.Command{
		Name:  "flow",
		Usage: "the Lua cashier flows",
		Subcommands: []*cli.Command{
			{
				Name:   "worker",
				Usage:  "run flows for a running posrt (started by posrt itself, on file descriptors 3 and 4)",
				Hidden: true,
				Action: func(c *cli.Context) error {
					in, out := os.NewFile(3, "from-posrt"), os.NewFile(4, "to-posrt")
					if in == nil || out == nil {
						return cli.Exit("posrt flow worker is started by posrt run, with its pipes on descriptors 3 and 4", 2)
					}
					logf := func(f string, a ...any) { fmt.Fprintf(c.App.ErrWriter, f+"\n", a...) }
					if err := flow.ServeWorker(in, out, logf); err != nil {
						return cli.Exit("flow worker: "+err.Error(), 1)
					}
					return nil
				},
			},
		},
	}
}
