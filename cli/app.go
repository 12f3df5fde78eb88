package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
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
			pinpadCommand(),
			pluginServeCommand(),
			journalCommand(),
			cacheCommand(),
			flowCommand(),
			receiptCommand(),
			simCommand(),
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
