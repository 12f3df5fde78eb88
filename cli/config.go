package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
	"github.com/urfave/cli/v2"

	"github.com/posrt/posrt/runtime/config"
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

// exitError turns an error into a cli exit with a one-line message.
func exitError(cmd string, err error) error {
	if err == nil || errors.As(err, new(cli.ExitCoder)) {
		return err
	}
	return cli.Exit(fmt.Sprintf("posrt %s: %v", cmd, err), 1)
}
