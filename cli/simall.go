package cli

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/posrt/posrt/plugins/channels/sim/simset"
	"github.com/posrt/posrt/runtime/boot"
	"github.com/posrt/posrt/runtime/config"
)

// simAllFlags are the flags of `posrt sim` and `posrt sim all`.
func simAllFlags() []cli.Flag {
	return []cli.Flag{configFlag, dataDirFlag}
}

func simAllCommand() *cli.Command {
	return &cli.Command{
		Name: "all",
		Usage: "every host simulator at once (what the default profile starts), serving the configuration's terminal, with keys and ledgers in <data-dir>/sim; " +
			"it prints each gateway's URL, admin URL, ledger and key files and runs until interrupted",
		Flags:  simAllFlags(),
		Action: func(c *cli.Context) error { return exitError("sim", simAll(c)) },
	}
}

func simLedgerCommand() *cli.Command {
	return &cli.Command{
		Name:  "ledger",
		Usage: "print the host simulators' ledgers of a data directory, one line per entry (from their files: posrt need not run)",
		Flags: []cli.Flag{configFlag, dataDirFlag,
			&cli.StringFlag{Name: "kind", Usage: "only this simulator's ledger (acquirer, wechat, alipay)"}},
		Action: func(c *cli.Context) error { return exitError("sim ledger", simLedger(c)) },
	}
}

// simulatorsOf returns the configuration's [[simulator]]s, or one of each
// kind simset knows when it has none.
func simulatorsOf(cfg config.Config) []config.Simulator {
	if len(cfg.Simulators) > 0 {
		return cfg.Simulators
	}
	var all []config.Simulator
	for _, k := range simset.Kinds() {
		all = append(all, config.Simulator{Kind: k})
	}
	return all
}

func simAll(c *cli.Context) error {
	cfg, dataDir, err := loadConfig(c)
	if err != nil {
		return err
	}
	// A posrt running on the data directory has these ledgers open: two
	// hosts must never append to one.
	lock, err := boot.LockDataDir(dataDir)
	if err != nil {
		return err
	}
	defer lock.Close()
	cfg.Simulators = simulatorsOf(cfg)
	sims, err := boot.StartSimulators(c.Context, boot.Options{Config: cfg, DataDir: dataDir}, true)
	if err != nil {
		return err
	}
	defer sims.Close()
	w := c.App.Writer
	fmt.Fprintf(w, "host simulators for terminal %s (merchant %s), keys in %s\n", cfg.Terminal.TID, cfg.Terminal.MID, filepath.Join(dataDir, config.SimulatorDir))
	for _, s := range sims.Sims() {
		fmt.Fprintf(w, "%s: %s\n  admin: %s\n  ledger: %s\n", s.Kind, s.Addr, s.AdminURL, s.Ledger)
		for _, f := range s.Files {
			fmt.Fprintf(w, "  %s: %s\n", f.Name, f.Path)
		}
		for _, name := range sortedKeys(s.Values) {
			if name == "tmk" {
				continue // the key itself is in tmk_file
			}
			fmt.Fprintf(w, "  %s: %s\n", name, s.Values[name])
		}
	}
	<-c.Context.Done()
	return nil
}

func simLedger(c *cli.Context) error {
	cfg, dataDir, err := loadConfig(c)
	if err != nil {
		return err
	}
	kind := simset.Kind(c.String("kind"))
	if kind != "" && !simset.Known(kind) {
		var known []string
		for _, k := range simset.Kinds() {
			known = append(known, string(k))
		}
		return fmt.Errorf("no simulator %q: want one of %s", kind, strings.Join(known, ", "))
	}
	w := c.App.Writer
	for _, s := range simulatorsOf(cfg) {
		if kind != "" && s.Kind != kind {
			continue
		}
		path := s.LedgerPath(dataDir)
		lines, err := simset.Ledger(s.Kind, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s host ledger %s: %d entries\n", s.Kind, path, len(lines))
		for _, l := range lines {
			fmt.Fprintln(w, "  "+l)
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
