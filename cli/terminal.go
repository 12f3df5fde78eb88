package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/urfave/cli/v2"

	"github.com/posrt/posrt/flows"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/runtime/config"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/plugin"
	"github.com/posrt/posrt/runtime/pluginhost"
	"github.com/posrt/posrt/runtime/terminal"
	"github.com/posrt/posrt/runtime/txn"
)

var (
	configFlag  = &cli.StringFlag{Name: "config", Usage: "posrt.toml to use (default: the embedded profile with fake devices)"}
	dataDirFlag = &cli.StringFlag{Name: "data-dir", Value: "posrt-data", Usage: "where the journal and the fakes' files live"}
)

// loadConfig reads the configuration and checks its built-in plugin names.
func loadConfig(c *cli.Context) (config.Config, string, error) {
	cfg, err := config.Load(c.String("config"))
	if err != nil {
		return config.Config{}, "", err
	}
	known := builtins()
	for _, p := range cfg.Plugins {
		if _, ok := known[p.Builtin]; p.Builtin != "" && !ok {
			return config.Config{}, "", fmt.Errorf("%s: plugin %q: no built-in plugin %q (built-ins: %s)", cfg.Source, p.Name, p.Builtin, builtinNames())
		}
	}
	dataDir, err := filepath.Abs(c.String("data-dir"))
	if err != nil {
		return config.Config{}, "", err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return config.Config{}, "", fmt.Errorf("creating data directory: %w", err)
	}
	return cfg, dataDir, nil
}

func newLogger(w io.Writer) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "posrt", Output: w, Level: hclog.Info})
}

// startPlugins starts the configured plugins.
func startPlugins(ctx context.Context, cfg config.Config, dataDir string, logger hclog.Logger) (*pluginhost.Host, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the posrt executable for built-in plugins: %w", err)
	}
	host := pluginhost.New(pluginhost.Options{Logger: logger.Named("plugin"), Kinds: pluginKinds()})
	if err := host.Start(ctx, cfg.Specs(self, dataDir)); err != nil {
		return nil, fmt.Errorf("starting plugins: %w", err)
	}
	return host, nil
}

func openJournal(dataDir string, logger hclog.Logger) (*journal.Journal, error) {
	j, err := journal.Open(filepath.Join(dataDir, "journal"), journal.Options{Logf: func(f string, a ...any) { logger.Warn(fmt.Sprintf(f, a...)) }})
	if err != nil && strings.Contains(err.Error(), "Cannot acquire directory lock") {
		return nil, fmt.Errorf("the journal in %s is in use: is another posrt running on this data directory?", dataDir)
	}
	return j, err
}

// assemble builds the terminal over running plugins and an open journal.
func assemble(cfg config.Config, host *pluginhost.Host, j *journal.Journal, logger hclog.Logger) (*terminal.Terminal, error) {
	layers := []iofs.FS{flows.Default}
	if cfg.Flows.Dir != "" {
		if st, err := os.Stat(cfg.Flows.Dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("flows.dir %q is not a directory", cfg.Flows.Dir)
		}
		layers = append(layers, os.DirFS(cfg.Flows.Dir))
	}
	logf := func(f string, a ...any) { logger.Info(fmt.Sprintf(f, a...)) }
	engine, err := flow.New(flow.Options{Logf: logf}, layers...)
	if err != nil {
		return nil, err
	}
	inst := func(kind string) *pluginhost.Instance {
		in, _ := host.Instance(cfg.PluginOf(kind))
		return in
	}
	pp, pr, ch := inst(plugin.KindPinPad), inst(plugin.KindPrinter), inst(plugin.KindChannel)
	return terminal.New(terminal.Config{
		Info:    txn.Terminal{TID: cfg.Terminal.TID, MID: cfg.Terminal.MID, MerchantName: cfg.Terminal.MerchantName},
		Journal: j,
		Flows:   engine,
		Logf:    logf,
		Devices: terminal.Devices{
			PinPad: func(ctx context.Context) (pinpad.PinPad, error) { return pluginhost.Dispense[pinpad.PinPad](ctx, pp) },
			Printer: func(ctx context.Context) (printer.Printer, error) {
				return pluginhost.Dispense[printer.Printer](ctx, pr)
			},
			Channel: func(ctx context.Context) (channels.Channel, error) {
				return pluginhost.Dispense[channels.Channel](ctx, ch)
			},
		},
	}), nil
}

// exitError turns an error into a cli exit with a one-line message.
func exitError(cmd string, err error) error {
	if err == nil || errors.As(err, new(cli.ExitCoder)) {
		return err
	}
	return cli.Exit(fmt.Sprintf("posrt %s: %v", cmd, err), 1)
}
