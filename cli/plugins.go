package cli

import (
	"fmt"
	"text/tabwriter"

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
				host, err := startPlugins(c.Context, cfg, dataDir, newLogger(c.App.ErrWriter))
				if err != nil {
					return exitError("plugins list", err)
				}
				defer stopPlugins(host, newLogger(c.App.ErrWriter))
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
