package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/posrt/posrt/flows"
	"github.com/posrt/posrt/runtime/config"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/flowcheck"
	"github.com/posrt/posrt/runtime/scenario"
)

var flowsDirFlag = &cli.StringFlag{Name: "flows-dir", Usage: "the merchant's flows directory (default: flows.dir of the configuration)"}

// flowCommand holds the flow tools; `posrt flow worker` is the worker
// process the runtime starts to run the cashier flows in.
func flowCommand() *cli.Command {
	return &cli.Command{
		Name:  "flow",
		Usage: "the Lua cashier flows",
		Subcommands: []*cli.Command{
			{
				Name:   "list",
				Usage:  "list every flow and library: the embedded default, or the merchant's file that overrides it",
				Flags:  []cli.Flag{configFlag, flowsDirFlag},
				Action: func(c *cli.Context) error { return exitError("flow list", flowList(c)) },
			},
			{
				Name:      "check",
				Usage:     "check flow files without running them: syntax, modules and functions, sandbox globals, what the file returns (a *_test.lua: its scenarios, as posrt flow test reads them)",
				ArgsUsage: "FILE...",
				Flags:     []cli.Flag{configFlag, flowsDirFlag},
				Action:    func(c *cli.Context) error { return exitError("flow check", flowCheck(c)) },
			},
			{
				Name:      "test",
				Usage:     "run flow scenarios (*_test.lua) against the fakes, each file on a fresh terminal of the default profile",
				ArgsUsage: "[FILE_test.lua...]",
				Flags: []cli.Flag{&cli.StringFlag{Name: "flows-dir", Usage: "the merchant's flows directory: its flows run over the embedded ones, and its *_test.lua " +
					"are the scenarios unless files are named (default: the embedded flows and their scenarios)"}},
				Action: func(c *cli.Context) error { return exitError("flow test", flowTest(c)) },
			},
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

// flowEntries lists the flows as posrt run would load them: the embedded
// defaults under --flows-dir, or under flows.dir of the configuration.
func flowEntries(c *cli.Context) ([]flowcheck.Entry, error) {
	dir := c.String("flows-dir")
	switch {
	case c.IsSet("flows-dir") && c.IsSet("config"):
		return nil, errors.New("give --config or --flows-dir, not both")
	case !c.IsSet("flows-dir"):
		cfg, err := config.Load(c.String("config"))
		if err != nil {
			return nil, err
		}
		dir = cfg.Flows.Dir
	}
	return flowcheck.List(flows.Default, dir)
}

func flowList(c *cli.Context) error {
	entries, err := flowEntries(c)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tORIGIN\tFROM")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Name, e.Kind, e.Origin, e.From)
	}
	return tw.Flush()
}

func flowCheck(c *cli.Context) error {
	files := c.Args().Slice()
	if len(files) == 0 {
		return cli.Exit("posrt flow check: name the flow files to check (posrt flow check FILE...)", 2)
	}
	entries, err := flowEntries(c)
	if err != nil {
		return err
	}
	checker, err := flowcheck.NewChecker(c.Context, flowcheck.Libraries(entries))
	if err != nil {
		return err
	}
	problems, bad := 0, 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, "posrt flow check: %v\n", err)
			bad++
			continue
		}
		var ps []string
		if strings.HasSuffix(f, "_test.lua") {
			// A scenario file of posrt flow test, read as the runner reads it.
			if _, err := scenario.Parse(c.Context, f, src); err != nil {
				ps = append(ps, err.Error())
			}
		} else {
			for _, p := range checker.Check(f, src) {
				ps = append(ps, p.String())
			}
		}
		for _, p := range ps {
			fmt.Fprintln(c.App.Writer, p)
		}
		if len(ps) == 0 {
			fmt.Fprintf(c.App.Writer, "%s: ok\n", f)
		} else {
			problems += len(ps)
			bad++
		}
	}
	if bad > 0 {
		return cli.Exit(fmt.Sprintf("posrt flow check: %d problem(s); %d of %d file(s) not ok", problems, bad, len(files)), 1)
	}
	return nil
}

// flowTest runs the scenario files named, or else those of --flows-dir (or
// the embedded ones), each on a fresh terminal, and prints a line per
// scenario and a summary; any failure exits 1.
func flowTest(c *cli.Context) error {
	dir := c.String("flows-dir")
	var sources []scenario.Source
	if c.Args().Len() > 0 {
		for _, f := range c.Args().Slice() {
			src, err := os.ReadFile(f)
			if err != nil {
				return fmt.Errorf("reading scenario file: %w", err)
			}
			sources = append(sources, scenario.Source{Name: f, Src: src})
		}
	} else {
		var err error
		if sources, err = scenario.Sources(flows.Default, dir); err != nil {
			return err
		}
		if len(sources) == 0 {
			return cli.Exit(fmt.Sprintf("posrt flow test: no scenario files (*_test.lua) in %s: write one, or name the files to run", dir), 1)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the posrt executable for the built-in plugins: %w", err)
	}
	o := scenario.Options{FlowsDir: dir, Self: self}
	ok, failed, badFiles := 0, 0, 0
	for _, s := range sources {
		f, err := scenario.Parse(c.Context, s.Name, s.Src)
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, "posrt flow test: %v\n", err)
			badFiles++
			continue
		}
		fmt.Fprintf(c.App.Writer, "=== %s\n", f.Name)
		outcomes, err := scenario.RunFile(c.Context, o, f)
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, "posrt flow test: %s: %s\n", f.Name, strings.TrimSpace(err.Error()))
			badFiles++
			continue
		}
		for _, oc := range outcomes {
			fmt.Fprintln(c.App.Writer, oc)
			if oc.OK() {
				ok++
			} else {
				failed++
			}
		}
	}
	summary := fmt.Sprintf("%d scenario(s): %d ok, %d failed", ok+failed, ok, failed)
	if badFiles > 0 {
		summary += fmt.Sprintf("; %d of %d file(s) not run", badFiles, len(sources))
	}
	fmt.Fprintln(c.App.Writer, summary)
	if failed > 0 || badFiles > 0 {
		return cli.Exit("posrt flow test: "+summary, 1)
	}
	return nil
}
