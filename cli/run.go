package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/net/netutil"

	"github.com/posrt/posrt/internal/durable"
	"github.com/posrt/posrt/runtime/boot"
	"github.com/posrt/posrt/runtime/ecr"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/money"
	"github.com/posrt/posrt/runtime/terminal"
	"github.com/posrt/posrt/runtime/txn"
)

// maxECRConns is how many cash-register connections are served at once.
const maxECRConns = 32

func runCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "run the terminal: start the plugins, sign in, serve the cash register API and the cashier console",
		Flags: []cli.Flag{
			configFlag, dataDirFlag, flowsDirFlag,
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
	if dir := c.String("flows-dir"); dir != "" {
		cfg.Flows.Dir = dir // the merchant's flows, over the embedded defaults
	}
	// A deployer's soft limit on posrt's heap (validated with the
	// configuration), set before anything is started.
	if limit, _ := cfg.Runtime.MemoryLimitBytes(); limit > 0 {
		debug.SetMemoryLimit(int64(limit))
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

	// The unix sockets posrt serves its plugins on (go-plugin's broker)
	// go where the plugins' own go, in the data directory, so that a posrt
	// killed with SIGKILL leaves nothing in /tmp and the next one removes
	// what it left.
	socketDir, err := boot.MakeSocketDir(dataDir)
	if err != nil {
		return err
	}
	oldTMP, hadTMP := os.LookupEnv("TMPDIR")
	os.Setenv("TMPDIR", socketDir)
	defer func() {
		if hadTMP {
			os.Setenv("TMPDIR", oldTMP)
		} else {
			os.Unsetenv("TMPDIR")
		}
	}()
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

	// Where this terminal's API listens, for the commands (posrt journal,
	// posrt cache) that read through it while posrt holds the data
	// directory: --ecr-addr may differ from the configuration's.
	if err := durable.WriteFile(filepath.Join(dataDir, ecr.AddrFile), []byte(ln.Addr().String()+"\n"), 0o600); err != nil {
		return fmt.Errorf("noting the ECR API's address: %w", err)
	}
	token, err := ecr.LoadToken(dataDir, cfg.ECR.Token)
	if err != nil {
		return err
	}
	handler, err := ecr.NewHandler(term, ecr.Options{Token: token, Plugins: host.Status})
	if err != nil {
		return err
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		logger.Warn("THE ECR API LISTENS BEYOND LOOPBACK: any machine that reaches " + ln.Addr().String() + " and holds the token can take payments; bind it to 127.0.0.1 unless the cash register is on another machine")
	}
	// A cash register sends small requests: every read is bounded, idle
	// connections close, and only maxECRConns are served at once (the rest
	// wait in the kernel's backlog), so half-sent requests can neither
	// exhaust posrt's file descriptors nor hold up a shutdown.
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	ln = netutil.LimitListener(ln, maxECRConns)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	tokenAt := filepath.Join(dataDir, ecr.TokenFile)
	if cfg.ECR.Token != "" {
		tokenAt = "the configuration (ecr.token)"
	}
	fmt.Fprintf(c.App.Writer, "posrt %s: terminal %s (merchant %s) ready, data in %s\nECR API on http://%s (POST /v1/sale, /v1/void, /v1/refund, /v1/cash, /v1/settle; GET /v1/status), token in %s\n",
		Version, cfg.Terminal.TID, cfg.Terminal.MID, dataDir, ln.Addr(), tokenAt)

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
	// Let a transaction in flight finish before the plugins stop; a
	// request stalled mid-body is cut off by its read timeout.
	logger.Info("stopping: the operation in flight, if any, finishes first (150s at most)")
	sctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("stopping the ECR API", "error", err)
	}
	fmt.Fprintln(c.App.Writer, "posrt stopped")
	return nil
}

// consoleRequest reads one console line as an operation.
func consoleRequest(f []string) (terminal.Request, error) {
	amount := func(s string) (money.Fen, error) { return money.Parse(s) }
	var req terminal.Request
	var err error
	switch {
	case len(f) == 1:
		// Whichever the customer presents first: a card or a code.
		req.Op = txn.Operation{Kind: journal.KindSale}
		req.Op.Amount, err = amount(f[0])
	case f[0] == "qr" && len(f) == 3:
		req.Op = txn.Operation{Kind: journal.KindSale}
		req.Op.Amount, err = amount(f[1])
		req.PaymentCode = f[2]
	case f[0] == "cash" && len(f) == 2:
		req.Op = txn.Operation{Kind: journal.KindCash, Medium: journal.MediumCash}
		req.Op.Amount, err = amount(f[1])
	case f[0] == "void" && len(f) == 2:
		req.Op = txn.Operation{Kind: journal.KindVoid, Original: txn.OriginalRef{Trace: f[1]}}
	case f[0] == "refund" && len(f) == 3:
		req.Op = txn.Operation{Kind: journal.KindRefund, Original: txn.OriginalRef{Trace: f[1]}}
		req.Op.Amount, err = amount(f[2])
	default:
		return req, fmt.Errorf("not understood: %q", strings.Join(f, " "))
	}
	return req, err
}
