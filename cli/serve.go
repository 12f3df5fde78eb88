package cli

import (
	"fmt"
	"sort"
	"strings"

	goplugin "github.com/hashicorp/go-plugin"
	"github.com/urfave/cli/v2"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/acquirer"
	"github.com/posrt/posrt/plugins/channels/alipay"
	channelsfake "github.com/posrt/posrt/plugins/channels/fake"
	"github.com/posrt/posrt/plugins/channels/unionpayqr"
	"github.com/posrt/posrt/plugins/channels/walletfake"
	"github.com/posrt/posrt/plugins/channels/wechat"
	"github.com/posrt/posrt/plugins/pinpad"
	pinpadfake "github.com/posrt/posrt/plugins/pinpad/fake"
	pinpadserial "github.com/posrt/posrt/plugins/pinpad/serial"
	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/plugins/printer/escpos"
	printerfake "github.com/posrt/posrt/plugins/printer/fake"
	"github.com/posrt/posrt/plugins/scanner"
	scannerfake "github.com/posrt/posrt/plugins/scanner/fake"
	"github.com/posrt/posrt/plugins/scanner/hid"
	scannerserial "github.com/posrt/posrt/plugins/scanner/serial"
)

// builtin is a plugin the posrt binary serves itself: its kind and a
// function making its glue with a new implementation.
type builtin struct {
	kind string
	glue func() goplugin.Plugin
}

// builtins are the plugins the posrt binary serves itself.
func builtins() map[string]builtin {
	return map[string]builtin{
		"fake-pinpad":    {base.KindPinPad, func() goplugin.Plugin { return pinpad.NewPlugin(pinpadfake.NewFake()) }},
		"pinpad-serial":  {base.KindPinPad, func() goplugin.Plugin { return pinpad.NewPlugin(pinpadserial.New()) }},
		"fake-printer":   {base.KindPrinter, func() goplugin.Plugin { return printer.NewPlugin(printerfake.NewFake()) }},
		"escpos":         {base.KindPrinter, func() goplugin.Plugin { return printer.NewPlugin(escpos.New()) }},
		"fake-scanner":   {base.KindScanner, func() goplugin.Plugin { return scanner.NewPlugin(scannerfake.NewFake()) }},
		"scanner-serial": {base.KindScanner, func() goplugin.Plugin { return scanner.NewPlugin(scannerserial.New()) }},
		"scanner-hid":    {base.KindScanner, func() goplugin.Plugin { return scanner.NewPlugin(hid.New()) }},
		"fake-acquirer":  {base.KindAcquirer, func() goplugin.Plugin { return channels.NewAcquirerPlugin(channelsfake.NewFake()) }},
		"acquirer":       {base.KindAcquirer, func() goplugin.Plugin { return channels.NewAcquirerPlugin(acquirer.New()) }},
		// One fake wallet host, its wallet preset (config key "wallet").
		"fake-wechat":      {base.KindWallet, func() goplugin.Plugin { return channels.NewWalletPlugin(walletfake.New(walletfake.WeChat)) }},
		"fake-alipay":      {base.KindWallet, func() goplugin.Plugin { return channels.NewWalletPlugin(walletfake.New(walletfake.Alipay)) }},
		"fake-unionpay-qr": {base.KindWallet, func() goplugin.Plugin { return channels.NewWalletPlugin(walletfake.New(walletfake.UnionPayQR)) }},
		"wechat":           {base.KindWallet, func() goplugin.Plugin { return channels.NewWalletPlugin(wechat.New()) }},
		"alipay":           {base.KindWallet, func() goplugin.Plugin { return channels.NewWalletPlugin(alipay.New()) }},
		"unionpay-qr":      {base.KindWallet, func() goplugin.Plugin { return channels.NewWalletPlugin(unionpayqr.New()) }},
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

// servedInstances reads "plugin serve" arguments of the form KEY=BUILTIN
// (several built-ins in one process, each under its configured name); ok
// is false for the single "plugin serve BUILTIN".
func servedInstances(args []string) (instances map[string]goplugin.Plugin, ok bool, err error) {
	if len(args) == 1 && !strings.Contains(args[0], "=") {
		return nil, false, nil
	}
	if len(args) == 0 {
		return nil, false, fmt.Errorf("posrt plugin serve: name a built-in plugin (built-ins: %s)", builtinNames())
	}
	known := builtins()
	instances = map[string]goplugin.Plugin{}
	for _, a := range args {
		key, name, found := strings.Cut(a, "=")
		b, known := known[name]
		switch {
		case !found || key == "":
			return nil, false, fmt.Errorf("posrt plugin serve: %q is not KEY=BUILTIN", a)
		case !known:
			return nil, false, fmt.Errorf("posrt plugin serve: no built-in plugin %q (built-ins: %s)", name, builtinNames())
		case instances[key] != nil:
			return nil, false, fmt.Errorf("posrt plugin serve: key %q is given twice", key)
		}
		instances[key] = b.glue()
	}
	return instances, true, nil
}

func pluginServeCommand() *cli.Command {
	return &cli.Command{
		Name:   "plugin",
		Usage:  "plugin commands the runtime uses",
		Hidden: true,
		Subcommands: []*cli.Command{{
			Name:      "serve",
			Usage:     "serve a built-in plugin, or several in one process (the runtime starts this; it is not for a person to run)",
			ArgsUsage: "NAME | KEY=NAME...",
			Action: func(c *cli.Context) error {
				instances, several, err := servedInstances(c.Args().Slice())
				if err != nil {
					return cli.Exit(err.Error(), 2)
				}
				if several {
					base.ServeInstances(instances)
					return nil
				}
				b, ok := builtins()[c.Args().First()]
				if !ok {
					return cli.Exit(fmt.Sprintf("posrt plugin serve: no built-in plugin %q (built-ins: %s)", c.Args().First(), builtinNames()), 2)
				}
				base.Serve(b.kind, b.glue())
				return nil
			},
		}},
	}
}
