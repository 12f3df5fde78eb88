package cli

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/posrt/posrt/runtime/boot"
	"github.com/urfave/cli/v2"
)

func pluginsCommand() *cli.Command {
	return &cli.Command{
		Name:  "plugins",
		Usage: "inspect the configured plugins",
		Subcommands: []*cli.Command{{
			Name:  "list",
			Usage: "start every configured plugin, print its name, kind, version, pid, health and restarts, and stop it",
			Flags: []cli.Flag{configFlag, dataDirFlag},
			Action: func(c *cli.Context) error {
				cfg, dataDir, err := loadConfig(c)
				if err != nil {
					return exitError("plugins list", err)
				}
				self, err := os.Executable()
				if err != nil {
					return exitError("plugins list", err)
				}
				logger := newLogger(c.App.ErrWriter)
				o := boot.Options{Config: cfg, DataDir: dataDir, Self: self, Logger: logger}
				// The simulators' ledgers stay in memory: a posrt may be
				// running on this data directory with them open.
				sims, err := boot.StartSimulators(c.Context, o, false)
				if err != nil {
					return exitError("plugins list", err)
				}
				defer sims.Close()
				o.Simulators = sims
				host, err := boot.StartPlugins(c.Context, o)
				if err != nil {
					return exitError("plugins list", err)
				}
				defer boot.StopPlugins(host, logger)
				w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "NAME\tKIND\tPLUGIN\tVERSION\tAPI\tPID\tHEALTH\tRESTARTS")
				for _, s := range host.Status() {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\n", s.Name, s.Kind, s.Plugin, s.Version, s.APIVersion, s.PID, s.Health, s.Restarts)
				}
				return w.Flush()
			},
		}},
	}
}
