package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/posrt/posrt/runtime/boot"
	"github.com/posrt/posrt/runtime/ecr"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/money"
	"github.com/posrt/posrt/runtime/terminal"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "run the terminal: start the plugins, sign in, serve the cash register API and the cashier console",
		Flags: []cli.Flag{
			configFlag, dataDirFlag,
			&cli.BoolFlag{Name: "headless", Usage: "serve only the local ECR API (no cashier console)"},
			&cli.StringFlag{Name: "ecr-addr", Usage: "address of the local ECR API (default from the configuration: 127.0.0.1:8321)"},
		},
		Action: func(c *cli.Context) error { return exitError("run", run(c)) },
	}
}

func run(c *cli.Context) error {
	cfg, dataDir, err := loadConfig(c)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	logger := newLogger(c.App.ErrWriter)

	addr := c.String("ecr-addr")
	if addr == "" {
		addr = cfg.ECR.Addr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serving the ECR API on %s: %w", addr, err)
	}
	defer ln.Close()

	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the posrt executable for built-in plugins: %w", err)
	}
	rt, err := boot.Start(ctx, boot.Options{Config: cfg, DataDir: dataDir, Self: self, Logger: logger})
	if err != nil {
		return err
	}
	defer rt.Close()
	term, host := rt.Terminal, rt.Plugins
	go term.Run(ctx)

	srv := &http.Server{Handler: ecr.NewHandler(term, host.Status), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(c.App.Writer, "posrt %s: terminal %s (merchant %s) ready, data in %s\nECR API on http://%s (POST /v1/sale, GET /v1/status)\n",
		Version, cfg.Terminal.TID, cfg.Terminal.MID, dataDir, ln.Addr())

	if !c.Bool("headless") {
		go func() {
			if console(ctx, c.App.Reader, c.App.Writer, term) {
				stop()
				return
			}
			fmt.Fprintln(c.App.Writer, "\nconsole input closed; the ECR API keeps serving (Ctrl-C or SIGTERM stops posrt)")
		}()
	}
	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("ECR API stopped: %w", err)
	}
	// Let a transaction in flight finish before the plugins stop.
	sctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("stopping the ECR API", "error", err)
	}
	fmt.Fprintln(c.App.Writer, "posrt stopped")
	return nil
}

// console is the cashier's line-mode console: an amount in fen runs a sale.
// It reports whether the cashier asked to quit (false: the input ended).
func console(ctx context.Context, in io.Reader, out io.Writer, term *terminal.Terminal) bool {
	lines := bufio.NewScanner(in)
	prompt := func() {
		fmt.Fprint(out, "\nsale amount in FEN (1 yuan = 100 fen; 1234 = 12.34 yuan), s = status, q = quit > ")
	}
	prompt()
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		switch line {
		case "":
		case "q", "quit":
			return true
		case "s", "status":
			st, err := term.Status()
			if err != nil {
				fmt.Fprintln(out, "status:", err)
			} else {
				fmt.Fprintf(out, "TID %s  MID %s  batch %s  next trace %s  signed in %v  pending reversals %d\n", st.TID, st.MID, st.Batch, st.NextTrace, st.SignedIn, st.Pending)
			}
		default:
			amount, err := money.Parse(line)
			if err != nil {
				fmt.Fprintln(out, err)
				break
			}
			fmt.Fprintf(out, "SALE RMB %s (%d fen): present the card on the PIN pad...\n", amount.Yuan(), int64(amount))
			res, err := term.Sale(ctx, amount)
			if err != nil {
				fmt.Fprintf(out, "FAILED: %s (nothing was charged)\n", flow.AsError(err).Message)
				break
			}
			fmt.Fprintf(out, "%s %s %s  card %s  batch %s trace %s  ref %s\n", strings.ToUpper(res.Result), res.Code, res.Message, res.MaskedPAN, res.Batch, res.Trace, res.RRN)
			if res.Warning != "" {
				fmt.Fprintln(out, "WARNING:", res.Warning)
			}
		}
		prompt()
	}
	return false
}
