package cli

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
	"github.com/posrt/posrt/runtime/boot"
	"github.com/posrt/posrt/runtime/operator"
	"github.com/posrt/posrt/runtime/pluginhost"
)

func pinpadCommand() *cli.Command {
	return &cli.Command{
		Name:  "pinpad",
		Usage: "the PIN pad's key management",
		Subcommands: []*cli.Command{{
			Name:  "inject-key",
			Usage: "load the terminal master key the acquirer issued into the configured PIN pad (once, by the deployer, with posrt stopped)",
			Description: "Reads the key file: the master key as 32 hex digits and its check value (6 or 8 hex digits, on the same line " +
				"or the next), as the key custodian hands them over; --check-value gives the check value instead. A key that does " +
				"not match its check value is refused before the PIN pad sees it. Needs the supervisor's password (--supervisor-password, " +
				"else the first line of standard input). The PIN pad erases its working keys: posrt signs in again at its next start. " +
				"posrt keeps no copy of the key (not in the journal, not in a log): destroy the key file once the key is in.",
			Flags: []cli.Flag{configFlag, dataDirFlag,
				&cli.StringFlag{Name: "key-file", Required: true, Usage: "the file holding the master key and its check value", TakesFile: true},
				&cli.StringFlag{Name: "check-value", Usage: "the key's check value, hex (else read from the key file)"},
				&cli.StringFlag{Name: "supervisor-password", Usage: "the supervisor's password (else read from standard input)"},
			},
			Action: func(c *cli.Context) error { return exitError("pinpad inject-key", injectKey(c)) },
		}},
	}
}

// readMasterKey reads a custodian's key file: the key's 32 hex digits and
// its check value, separated by white space or a line; checkValue, when
// set, stands for the file's.
func readMasterKey(path, checkValue string) (pinpad.MasterKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return pinpad.MasterKey{}, fmt.Errorf("reading the key file: %w", err)
	}
	defer clear(b)
	fields := strings.Fields(string(b))
	if len(fields) == 0 || len(fields) > 2 {
		return pinpad.MasterKey{}, fmt.Errorf("the key file %s holds %d words: want the key's 32 hex digits and its check value", path, len(fields))
	}
	key, err := hex.DecodeString(fields[0])
	if err != nil || len(key) != cardcrypto.KeySize {
		clear(key)
		return pinpad.MasterKey{}, fmt.Errorf("the key file %s does not start with a key of 32 hex digits", path)
	}
	if checkValue == "" && len(fields) == 2 {
		checkValue = fields[1]
	}
	if checkValue == "" {
		clear(key)
		return pinpad.MasterKey{}, errors.New("no check value: give the one the key custodian wrote down (--check-value, or after the key in the file); without it a mistyped key would go into the PIN pad")
	}
	kcv, err := hex.DecodeString(checkValue)
	if err != nil || (len(kcv) != 3 && len(kcv) != 4) {
		clear(key)
		return pinpad.MasterKey{}, fmt.Errorf("check value %q: want 6 or 8 hex digits", checkValue)
	}
	if err := cardcrypto.VerifyCheckValue(key, kcv); err != nil {
		clear(key)
		return pinpad.MasterKey{}, errors.New("the key does not match its check value: nothing was sent to the PIN pad; check the key's components with the custodian")
	}
	return pinpad.MasterKey{Key: key, CheckValue: kcv}, nil
}

func injectKey(c *cli.Context) error {
	cfg, dataDir, err := loadConfig(c)
	if err != nil {
		return err
	}
	lock, err := boot.LockDataDir(dataDir)
	if errors.Is(err, boot.ErrDataDirInUse) {
		return fmt.Errorf("posrt is running on %s: stop it first (key injection talks to the PIN pad alone)", dataDir)
	}
	if err != nil {
		return err
	}
	defer lock.Close()
	var pads []string
	only := cfg
	only.Plugins = nil
	for _, p := range cfg.Plugins {
		if p.Kind == base.KindPinPad {
			only.Plugins = append(only.Plugins, p)
			pads = append(pads, p.Name)
		}
	}
	if len(pads) != 1 {
		return fmt.Errorf("%s configures %d PIN pads (%s): key injection wants exactly one", cfg.Source, len(pads), strings.Join(pads, ", "))
	}
	key, err := readMasterKey(c.String("key-file"), c.String("check-value"))
	if err != nil {
		return err
	}
	defer clear(key.Key)
	pw := c.String("supervisor-password")
	if pw == "" {
		fmt.Fprint(c.App.ErrWriter, "supervisor password: ")
		line, err := bufio.NewReader(c.App.Reader).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		pw = strings.TrimSpace(line)
	}
	ops, err := operator.Open(dataDir, operator.Options{})
	if err != nil {
		return err
	}
	if err := ops.Supervisor(c.Context, pw); err != nil {
		return fmt.Errorf("not injected: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	logger := newLogger(c.App.ErrWriter)
	o := boot.Options{Config: only, DataDir: dataDir, Self: self, Logger: logger}
	sims, err := boot.StartSimulators(c.Context, o, false) // a PIN pad's config may name one
	if err != nil {
		return err
	}
	defer sims.Close()
	o.Simulators = sims
	host, err := boot.StartPlugins(c.Context, o)
	if err != nil {
		return err
	}
	defer boot.StopPlugins(host, logger)
	in, _ := host.Instance(pads[0])
	pp, err := pluginhost.Dispense[pinpad.PinPad](c.Context, in)
	if err != nil {
		return err
	}
	info, err := pp.Info(c.Context)
	if err != nil {
		return err
	}
	if !info.Has(pinpad.CapabilityInjectMasterKey) {
		return fmt.Errorf("the PIN pad plugin %q (%s %s) does not take key injection (capability %s): inject the key with its vendor's tool", pads[0], info.Name, info.Version, pinpad.CapabilityInjectMasterKey)
	}
	if err := pp.InjectMasterKey(c.Context, key); err != nil {
		return fmt.Errorf("not injected: %w", err)
	}
	fmt.Fprintf(c.App.Writer, "master key injected into the PIN pad %q (check value %X); its working keys are erased: posrt signs in at its next start\n"+
		"posrt kept no copy of the key: destroy %s\n", pads[0], key.CheckValue, c.String("key-file"))
	return nil
}
