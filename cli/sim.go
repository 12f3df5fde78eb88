package cli

import (
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	acqsim "github.com/posrt/posrt/plugins/channels/sim/acquirer"
	wxsim "github.com/posrt/posrt/plugins/channels/sim/wechat"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
	"github.com/posrt/posrt/plugins/pinpad/testcards"
)

func simCommand() *cli.Command {
	return &cli.Command{
		Name:   "sim",
		Usage:  "simulators of the payment hosts, for tests and demonstrations (no subcommand: all of them, as `posrt sim all`)",
		Flags:  simAllFlags(),
		Action: func(c *cli.Context) error { return exitError("sim", simAll(c)) },
		Subcommands: []*cli.Command{simAllCommand(), simLedgerCommand(), {
			Name: "acquirer",
			Usage: "an ISO 8583 card acquirer host (China UnionPay style) on --addr, with its admin endpoint (GET /ledger, POST /faults) on --admin; " +
				"it prints its addresses and key file and runs until interrupted",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "addr", Value: "127.0.0.1:0", Usage: "where the ISO 8583 listener listens"},
				&cli.StringFlag{Name: "admin", Value: "127.0.0.1:0", Usage: "where the HTTP admin endpoint listens"},
				&cli.StringFlag{Name: "ledger", Usage: "the host's ledger file (JSON lines, replayed at start); default in memory", TakesFile: true},
				&cli.StringFlag{Name: "tmk-file", Usage: "a file holding the terminal master key, 32 hex digits (default: the published test key of package testcards)", TakesFile: true},
				&cli.StringFlag{Name: "tid", Value: "10000001", Usage: "the terminal the host serves"},
				&cli.StringFlag{Name: "mid", Value: "898310048990001", Usage: "the terminal's merchant"},
				&cli.StringFlag{Name: "mac", Value: string(acqsim.MACX919), Usage: "the MAC algorithm: x919 or ecb"},
			},
			Action: func(c *cli.Context) error { return exitError("sim acquirer", simAcquirer(c)) },
		}, {
			Name: "wechat",
			Usage: "a WeChat Pay API v2 gateway (micropay, orderquery, reverse, refund, refundquery) on --addr, with its admin endpoint (GET /ledger, POST /faults) on --admin; " +
				"it prints its URLs and key file and runs until interrupted",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "addr", Value: "127.0.0.1:0", Usage: "where the gateway listens"},
				&cli.StringFlag{Name: "admin", Value: "127.0.0.1:0", Usage: "where the HTTP admin endpoint listens"},
				&cli.StringFlag{Name: "ledger", Usage: "the gateway's ledger file (JSON lines, replayed at start); default in memory", TakesFile: true},
				&cli.StringFlag{Name: "appid", Value: wxExampleAppID, Usage: "the merchant's appid"},
				&cli.StringFlag{Name: "mch-id", Value: wxExampleMchID, Usage: "the merchant's mch_id"},
				&cli.StringFlag{Name: "key-file", Usage: "a file holding the merchant's API v2 key (default: the example key of WeChat's published signing rule)", TakesFile: true},
			},
			Action: func(c *cli.Context) error { return exitError("sim wechat", simWeChat(c)) },
		}, simAlipayCommand(), simUnionPayQRCommand()},
	}
}

func simAcquirer(c *cli.Context) error {
	tmk, keyFile := testcards.TestTMK(), "(the testcards test key)"
	if f := c.String("tmk-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("reading the TMK: %w", err)
		}
		if tmk, err = hex.DecodeString(strings.TrimSpace(string(b))); err != nil || len(tmk) != cardcrypto.KeySize {
			return fmt.Errorf("reading the TMK: %s does not hold %d hex digits", f, 2*cardcrypto.KeySize)
		}
		keyFile = f
	}
	s, err := acqsim.Serve(c.Context, acqsim.Config{
		Addr: c.String("addr"), AdminAddr: c.String("admin"), Ledger: c.String("ledger"), MAC: acqsim.MACAlgorithm(c.String("mac")),
		Terminals: []acqsim.Terminal{{TID: c.String("tid"), MID: c.String("mid"), TMK: tmk}},
	})
	if err != nil {
		return err
	}
	defer s.Close()
	return serveSim(c, "acquirer", "tcp://"+s.Addr(), s.AdminURL(), "tmk: "+keyFile)
}

// serveSim prints what a standalone simulator serves, a "name: value"
// line each (its address, its admin endpoint, its ledger, then lines: the
// keys a plugin is configured with against it), and runs until posrt sim
// is stopped.
func serveSim(c *cli.Context, kind, addr, adminURL string, lines ...string) error {
	ledger := c.String("ledger")
	if ledger == "" {
		ledger = "(in memory)"
	}
	w := c.App.Writer
	fmt.Fprintf(w, "%s: %s\nadmin: %s\nledger: %s\n", kind, addr, adminURL, ledger)
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	<-c.Context.Done()
	return nil
}

// The merchant of WeChat Pay's published signing example, which posrt sim
// wechat serves unless told otherwise.
const (
	wxExampleAppID = "wxd930ea5d5a258f4f"
	wxExampleMchID = "10000100"
	wxExampleKey   = "192006250b4c09247ec02edce69f6a2d"
)

func simWeChat(c *cli.Context) error {
	key, keyFile := wxExampleKey, "(the example key of WeChat's signing rule)"
	if f := c.String("key-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("reading the API key: %w", err)
		}
		if key = strings.TrimSpace(string(b)); key == "" {
			return fmt.Errorf("reading the API key: %s is empty", f)
		}
		keyFile = f
	}
	s, err := wxsim.Serve(c.Context, wxsim.Config{
		Addr: c.String("addr"), AdminAddr: c.String("admin"), Ledger: c.String("ledger"),
		Merchants: []wxsim.Merchant{{AppID: c.String("appid"), MchID: c.String("mch-id"), Key: key}},
	})
	if err != nil {
		return err
	}
	defer s.Close()
	return serveSim(c, "wechat", s.Addr(), s.AdminURL(), "key: "+keyFile)
}
