package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/posrt/posrt/runtime/boot"
	"github.com/posrt/posrt/runtime/ecr"
	"github.com/posrt/posrt/runtime/pluginhost"
)

func pluginsCommand() *cli.Command {
	return &cli.Command{
		Name:  "plugins",
		Usage: "inspect the configured plugins",
		Subcommands: []*cli.Command{{
			Name: "list",
			Usage: "print every configured plugin: name, kind, version, pid, state, conditions, restarts, detail and last error; " +
				"the running posrt's table when posrt runs on the data directory (its plugins are not started twice), " +
				"else each plugin started, asked for its state and stopped",
			Flags: []cli.Flag{configFlag, dataDirFlag},
			Action: func(c *cli.Context) error {
				rows, from, err := pluginTable(c)
				if err != nil {
					return exitError("plugins list", err)
				}
				if from != "" {
					fmt.Fprintln(c.App.ErrWriter, from)
				}
				return printPlugins(c.App.Writer, rows)
			},
		}},
	}
}

// pluginTable returns the plugin table of the running posrt (from names
// it), or of the plugins started for the purpose when posrt does not run
// on the data directory.
func pluginTable(c *cli.Context) (rows []pluginhost.Status, from string, err error) {
	cfg, dataDir, err := loadConfig(c)
	if err != nil {
		return nil, "", err
	}
	lock, err := boot.LockDataDir(dataDir)
	if errors.Is(err, boot.ErrDataDirInUse) {
		s, err := runningPosrt(c, cfg.ECR, dataDir)
		if err != nil {
			return nil, "", err
		}
		var st ecr.Status
		if err := s.getJSON(c.Context, "/v1/status", nil, &st); err != nil {
			return nil, "", err
		}
		return st.Plugins, fmt.Sprintf("the plugins of the posrt running on %s (%s):", dataDir, s.base), nil
	}
	if err != nil {
		return nil, "", err
	}
	defer lock.Close() // no posrt run starts a second set of plugins meanwhile
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	logger := newLogger(c.App.ErrWriter)
	o := boot.Options{Config: cfg, DataDir: dataDir, Self: self, Logger: logger}
	// The simulators the profile names, with their ledgers in memory: the
	// data directory's books stay as they are.
	sims, err := boot.StartSimulators(c.Context, o, false)
	if err != nil {
		return nil, "", err
	}
	defer sims.Close()
	o.Simulators = sims
	host, err := boot.StartPlugins(c.Context, o)
	if err != nil {
		return nil, "", err
	}
	defer boot.StopPlugins(host, logger)
	// The first event of each plugin's watch gives its state.
	deadline := time.Now().Add(firstEventWait)
	for time.Now().Before(deadline) && !allReported(host.Status()) {
		time.Sleep(10 * time.Millisecond)
	}
	return host.Status(), "", nil
}

// firstEventWait bounds how long plugins list waits for the plugins it
// started to report their state.
const firstEventWait = 3 * time.Second

func allReported(rows []pluginhost.Status) bool {
	for _, s := range rows {
		if s.Events == "" {
			return false
		}
	}
	return true
}

func printPlugins(out io.Writer, rows []pluginhost.Status) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tKIND\tPLUGIN\tVERSION\tAPI\tPID\tSTATE\tCONDITIONS\tRESTARTS\tDETAIL\tLAST ERROR")
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, s := range rows {
		last := "-"
		if s.LastError != "" {
			last = s.LastError
			if s.LastErrorAt != nil {
				last = s.LastErrorAt.Local().Format(time.DateTime) + " " + last
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%d\t%s\t%s\n", s.Name, s.Kind, dash(s.Plugin), dash(s.Version), dash(s.APIVersion), s.PID,
			s.Health, dash(strings.Join(s.Conditions, ",")), s.Restarts, dash(s.Detail), last)
	}
	return w.Flush()
}
