package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/operator"
)

func cacheCommand() *cli.Command {
	return &cli.Command{
		Name:  "cache",
		Usage: "the terminal's cache (its journal)",
		Subcommands: []*cli.Command{{
			Name:  "clear",
			Usage: "export the whole journal, then empty it (trace and batch numbers and operators stay); needs the supervisor's password",
			Description: "Refused while the batch is unsettled or anything is unresolved, unless --confirm. " +
				"Reads the supervisor's password from --supervisor-password or, without it, from the first line of standard input. " +
				"While posrt run holds the data directory the running terminal clears it (over its ECR API).",
			Flags: append([]cli.Flag{configFlag, dataDirFlag},
				&cli.BoolFlag{Name: "confirm", Usage: "clear even with an unsettled batch or unresolved records (the supervisor confirms; the export keeps them)"},
				&cli.StringFlag{Name: "supervisor-password", Usage: "the supervisor's password (else read from standard input)"},
			),
			Action: cacheClear,
		}},
	}
}

func cacheClear(c *cli.Context) error {
	pw := c.String("supervisor-password")
	if pw == "" {
		fmt.Fprint(c.App.ErrWriter, "supervisor password: ")
		line, err := bufio.NewReader(c.App.Reader).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		pw = strings.TrimSpace(line)
	}
	src, err := openBooks(c, false)
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	defer src.close()
	var rep journal.ClearReport
	if src.j != nil {
		ops, err := operator.Open(src.dataDir, operator.Options{})
		if err != nil {
			return cli.Exit(err.Error(), 1)
		}
		if err := ops.Supervisor(c.Context, pw); err != nil {
			return cli.Exit("not cleared: "+err.Error(), 1)
		}
		if rep, err = src.j.Clear(c.Context, filepath.Join(src.dataDir, "exports"), c.Bool("confirm")); err != nil {
			if errors.Is(err, journal.ErrNotClearable) {
				return cli.Exit("not cleared: "+err.Error()+": settle first, or clear anyway with --confirm (the export keeps every record)", 1)
			}
			return cli.Exit("not cleared: "+err.Error(), 1)
		}
	} else {
		body, _ := json.Marshal(map[string]any{"supervisor_password": pw, "confirm": c.Bool("confirm")})
		if err := src.post(c.Context, "/v1/cache/clear", body, &rep); err != nil {
			return cli.Exit("not cleared: "+err.Error(), 1)
		}
	}
	fmt.Fprintf(c.App.Writer, "cleared: %d records exported to %s; batch %s and next trace %s kept\n", rep.Records, rep.Export, rep.Batch, rep.NextTrace)
	return nil
}
