package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/posrt/posrt/plugins/channels"
	channelsfake "github.com/posrt/posrt/plugins/channels/fake"
	"github.com/posrt/posrt/plugins/channels/walletfake"
	"github.com/posrt/posrt/plugins/pinpad"
	pinpadfake "github.com/posrt/posrt/plugins/pinpad/fake"
	"github.com/posrt/posrt/plugins/printer"
	printerfake "github.com/posrt/posrt/plugins/printer/fake"
	"github.com/posrt/posrt/plugins/scanner"
	scannerfake "github.com/posrt/posrt/plugins/scanner/fake"
)

// builtins are the plugins the posrt binary serves itself.
func builtins() map[string]func() {
	return map[string]func(){
		"fake-pinpad":   func() { pinpad.Serve(pinpadfake.NewFake()) },
		"fake-printer":  func() { printer.Serve(printerfake.NewFake()) },
		"fake-scanner":  func() { scanner.Serve(scannerfake.NewFake()) },
		"fake-acquirer": func() { channels.ServeAcquirer(channelsfake.NewFake()) },
		// One fake wallet host, its wallet preset (config key "wallet").
		"fake-wechat":      func() { channels.ServeWallet(walletfake.New(walletfake.WeChat)) },
		"fake-alipay":      func() { channels.ServeWallet(walletfake.New(walletfake.Alipay)) },
		"fake-unionpay-qr": func() { channels.ServeWallet(walletfake.New(walletfake.UnionPayQR)) },
	}
}

func builtinNames() string {
	var names []string
	for n := range builtins() {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func pluginServeCommand() *cli.Command {
	return &cli.Command{
		Name:   "plugin",
		Usage:  "plugin commands the runtime uses",
		Hidden: true,
		Subcommands: []*cli.Command{{
			Name:      "serve",
			Usage:     "serve a built-in plugin (the runtime starts this; it is not for a person to run)",
			ArgsUsage: "NAME",
			Action: func(c *cli.Context) error {
				serve, ok := builtins()[c.Args().First()]
				if !ok {
					return cli.Exit(fmt.Sprintf("posrt plugin serve: no built-in plugin %q (built-ins: %s)", c.Args().First(), builtinNames()), 2)
				}
				serve()
				return nil
			},
		}},
	}
}
