// Command posrt is the payment-terminal runtime. Run `posrt run` on a
// terminal; see `posrt --help`.
package main

import (
	"os"

	"github.com/posrt/posrt/cli"
)

func main() {
	os.Exit(cli.ExitCode(cli.NewApp(os.Stdin, os.Stdout, os.Stderr).Run(os.Args)))
}
