package cli

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/plugins/scanner"
	"github.com/posrt/posrt/runtime/plugin"
	"github.com/posrt/posrt/runtime/pluginhost"
)

// Version is posrt's version.
const Version = "0.1.0-dev"

// NewApp builds the posrt command line over the given streams.
func NewApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "posrt",
		Usage:     "a payment-terminal runtime: plugins for devices and payment channels, Lua cashier flows, a journal that never loses a payment",
		Version:   Version,
		Reader:    stdin,
		Writer:    stdout,
		ErrWriter: stderr,
		Commands: []*cli.Command{
			runCommand(),
			pluginsCommand(),
			pluginServeCommand(),
		},
		HideHelpCommand: true,
		// Print the error; the caller (main) picks the exit code, so that
		// tests can run the app in-process.
		ExitErrHandler: func(c *cli.Context, err error) {
			if err != nil {
				fmt.Fprintln(c.App.ErrWriter, err)
			}
		},
	}
}

// ExitCode is the process exit code for err returned by the app's Run.
func ExitCode(err error) int {
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	if err != nil {
		return 1
	}
	return 0
}

// pluginKinds is how the runtime talks to each kind of plugin, with the
// default deadline of a call: the PIN pad waits for a cardholder, the
// channel for a host (up to a 60s answer), the others for a device.
func pluginKinds() map[string]pluginhost.Kind {
	return map[string]pluginhost.Kind{
		plugin.KindPinPad:  {Plugin: &pinpad.Plugin{}, APIVersions: pinpad.APIVersions, CallTimeout: 90 * time.Second},
		plugin.KindPrinter: {Plugin: &printer.Plugin{}, APIVersions: printer.APIVersions, CallTimeout: 15 * time.Second},
		plugin.KindScanner: {Plugin: &scanner.Plugin{}, APIVersions: scanner.APIVersions, CallTimeout: 10 * time.Second},
		plugin.KindChannel: {Plugin: &channels.Plugin{}, APIVersions: channels.APIVersions, CallTimeout: 60 * time.Second},
	}
}
