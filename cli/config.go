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
	dataDirFlag = &cli.StringFlag{Name: "data-dir", EnvVars: []string{"POSRT_DATA_DIR"},
		Usage: "where the journal and the fakes' files live (default: /var/lib/posrt as root, else $XDG_STATE_HOME/posrt or ~/.local/state/posrt; never the working directory)"}
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
	dataDir, err := resolveDataDir(c.String("data-dir"), os.Getenv, os.Geteuid())
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

// resolveDataDir returns the data directory: the one given (made
// absolute), or else a fixed place that does not depend on the working
// directory, so that a posrt started from another directory finds the same
// journal: /var/lib/posrt for root (a terminal's service), else the
// user's state directory.
func resolveDataDir(given string, getenv func(string) string, euid int) (string, error) {
	if given != "" {
		return filepath.Abs(given)
	}
	if euid == 0 {
		return "/var/lib/posrt", nil
	}
	if state := getenv("XDG_STATE_HOME"); filepath.IsAbs(state) {
		return filepath.Join(state, "posrt"), nil
	}
	home := getenv("HOME")
	if !filepath.IsAbs(home) {
		return "", errors.New("no data directory: set --data-dir (or POSRT_DATA_DIR); HOME is not set")
	}
	return filepath.Join(home, ".local", "state", "posrt"), nil
}
