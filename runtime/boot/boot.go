package boot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/posrt/posrt/flows"
	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/sim/simset"
	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/plugins/scanner"
	"github.com/posrt/posrt/runtime/config"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/gpio"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/operator"
	"github.com/posrt/posrt/runtime/pluginhost"
	"github.com/posrt/posrt/runtime/terminal"
	"github.com/posrt/posrt/runtime/txn"
)

// Kinds is how the runtime talks to each kind of plugin, with the default
// deadline of a call: the PIN pad waits for a cardholder, a channel for a
// host, the others for a device. sec is the security service acquirer
// plugins are offered (backed by the PIN pad).
func Kinds(sec channels.Security) map[string]pluginhost.Kind {
	return map[string]pluginhost.Kind{
		base.KindPinPad:   {Plugin: pinpad.NewPlugin(nil), APIVersions: pinpad.APIVersions, CallTimeout: 90 * time.Second},
		base.KindPrinter:  {Plugin: printer.NewPlugin(nil), APIVersions: printer.APIVersions, CallTimeout: 15 * time.Second},
		base.KindScanner:  {Plugin: scanner.NewPlugin(nil), APIVersions: scanner.APIVersions, CallTimeout: 60 * time.Second},
		base.KindAcquirer: {Plugin: channels.AcquirerHostPlugin(sec), APIVersions: channels.APIVersions, CallTimeout: 60 * time.Second},
		base.KindWallet:   {Plugin: channels.NewWalletPlugin(nil), APIVersions: channels.WalletAPIVersions, CallTimeout: 30 * time.Second},
	}
}

// Options say what to bring up.
type Options struct {
	Config config.Config
	// DataDir holds the journal; "{data}" in plugin configs stands for it.
	DataDir string
	// Self is the posrt executable that serves the built-in plugins.
	Self   string
	Logger hclog.Logger
	// Simulators are the running host simulators whose "{sim.<kind>}"
	// placeholders the plugins' configs refer to (StartSimulators); Start
	// starts the configuration's own when nil.
	Simulators *simset.Set
}

// Runtime is a running terminal.
type Runtime struct {
	Terminal *terminal.Terminal
	Plugins  *pluginhost.Host
	Journal  *journal.Journal
	// Flows runs the cashier flows: a pool of worker processes, or the
	// engine in this process when flows.workers is 0 or there is no
	// posrt executable to start them from.
	Flows flow.Runner
	// Simulators are the configuration's host simulators, stopped after
	// the plugins.
	Simulators *simset.Set
	logger     hclog.Logger
	lock       *os.File // the data directory's lock, held while the runtime runs
	// gpio watches the tamper switch and the drawer sensor until stopGPIO.
	gpio     *gpio.Watcher
	stopGPIO context.CancelFunc
}

// LockFile is the file in the data directory a running posrt holds locked.
const LockFile = "posrt.lock"

// ErrDataDirInUse is returned by LockDataDir when another process (a
// running posrt) holds the data directory.
var ErrDataDirInUse = errors.New("the data directory is in use")

// LockDataDir takes the data directory for this process, before anything
// starts: a second posrt on it is refused at once. Closing the file
// releases it.
func LockDataDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking the data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s: is another posrt running on it? (%v)", ErrDataDirInUse, dir, err)
	}
	return f, nil
}

// StartSimulators starts the configuration's [[simulator]]s serving its
// terminal, with their keys in <data-dir>/sim (made on first start, read
// back after) and their ledgers where configured; with ledgers false the
// ledgers are kept in memory (for a short look at the plugins beside a
// posrt that may be running on the same data directory). A configuration
// without simulators starts none.
func StartSimulators(ctx context.Context, o Options, ledgers bool) (*simset.Set, error) {
	c := o.Config
	specs := make([]simset.Spec, len(c.Simulators))
	for i, s := range c.Simulators {
		specs[i] = simset.Spec{Kind: s.Kind, Addr: s.Addr, AdminAddr: s.Admin}
		if ledgers {
			specs[i].Ledger = s.LedgerPath(o.DataDir)
		}
	}
	// The simulators live as long as the runtime, not as the start's ctx.
	set, err := simset.Start(context.WithoutCancel(ctx), simset.Terminal{TID: c.Terminal.TID, MID: c.Terminal.MID},
		filepath.Join(o.DataDir, config.SimulatorDir), specs)
	if err != nil {
		return nil, err
	}
	if o.Logger != nil {
		for _, s := range set.Sims() {
			o.Logger.Info("host simulator started", "kind", s.Kind, "addr", s.Addr, "admin", s.AdminURL, "ledger", s.Ledger)
		}
	}
	return set, nil
}

// StartPlugins starts the configured plugins. Acquirer plugins are offered
// the PIN pad's MAC service through the broker.
func StartPlugins(ctx context.Context, o Options) (*pluginhost.Host, error) {
	var pp atomic.Pointer[pluginhost.Instance]
	sec := txn.PINPadSecurity{PinPad: func(ctx context.Context) (pinpad.PinPad, error) {
		in := pp.Load()
		if in == nil {
			return nil, fmt.Errorf("the PIN pad is not started yet: %w", base.ErrUnavailable)
		}
		return pluginhost.Dispense[pinpad.PinPad](ctx, in)
	}}
	cleanStaleSockets(socketRoot(o.DataDir), o.Logger)
	pluginLimit, _ := o.Config.Runtime.PluginMemoryLimitBytes() // validated with the configuration
	host := pluginhost.New(pluginhost.Options{Logger: o.Logger.Named("plugin"), Kinds: Kinds(sec), SocketDir: SocketDir(o.DataDir),
		PluginMemoryLimit: int64(pluginLimit)})
	specs, err := Specs(o.Config, o.Self, o.DataDir, o.Simulators)
	if err != nil {
		return nil, err
	}
	if err := host.Start(ctx, specs); err != nil {
		return nil, fmt.Errorf("starting plugins: %w", err)
	}
	if in, ok := host.Instance(o.Config.PluginOf(base.KindPinPad)); ok {
		pp.Store(in)
	}
	return host, nil
}

// StopPlugins lets calls in flight finish and stops the plugin processes.
func StopPlugins(host *pluginhost.Host, logger hclog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := host.Shutdown(ctx); err != nil {
		logger.Error("stopping plugins", "error", err)
	}
}

// Start opens the journal and starts the plugins side by side, then
// assembles the terminal. On error nothing is left running.
func Start(ctx context.Context, o Options) (*Runtime, error) {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	lock, err := LockDataDir(o.DataDir)
	if err != nil {
		return nil, err
	}
	var j *journal.Journal
	journalErr := make(chan error, 1)
	go func() {
		var err error
		j, err = openJournal(o.DataDir, o.Logger)
		journalErr <- err
	}()
	var sims *simset.Set
	if o.Simulators == nil {
		sims, err = StartSimulators(ctx, o, true)
		o.Simulators = sims
	}
	var host *pluginhost.Host
	if err == nil {
		host, err = StartPlugins(ctx, o)
	}
	if jerr := <-journalErr; jerr != nil {
		err = errors.Join(err, jerr)
	}
	r := &Runtime{Plugins: host, Journal: j, Simulators: sims, logger: o.Logger, lock: lock}
	if err == nil {
		r.Terminal, r.Flows, err = assemble(o, host, j, r.watchGPIO)
	}
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// Close stops the plugins, letting calls in flight finish, then closes the
// journal.
func (r *Runtime) Close() {
	if r.stopGPIO != nil {
		r.stopGPIO()
		r.gpio.Wait()
	}
	if p, ok := r.Flows.(*flow.Pool); ok {
		p.Close()
	}
	if r.Plugins != nil {
		StopPlugins(r.Plugins, r.logger)
	}
	if err := r.Simulators.Close(); err != nil {
		r.logger.Error("stopping the host simulators", "error", err)
	}
	if r.Journal != nil {
		if err := r.Journal.Close(); err != nil {
			r.logger.Error("closing the journal", "error", err)
		}
	}
	if r.lock != nil {
		_ = r.lock.Close() // releases the lock
	}
}

func openJournal(dataDir string, logger hclog.Logger) (*journal.Journal, error) {
	j, err := journal.Open(filepath.Join(dataDir, "journal"), journal.Options{Logf: func(f string, a ...any) { logger.Warn(fmt.Sprintf(f, a...)) }})
	if err != nil && strings.Contains(err.Error(), "Cannot acquire directory lock") {
		return nil, fmt.Errorf("the journal in %s is in use: is another posrt running on this data directory?", dataDir)
	}
	return j, err
}

// watchGPIO starts the watch of the configured pins: a tamper edge puts
// t into protection mode at once (an operation in flight is finished and
// resolved by the core first; a switch open at start protects at start),
// the drawer's moves are logged.
func (r *Runtime) watchGPIO(cfg gpio.Config, t *terminal.Terminal) (*gpio.Watcher, error) {
	ctx, cancel := context.WithCancel(context.Background())
	w, err := gpio.Start(ctx, cfg, gpio.Handlers{
		Tamper: func(reason string) {
			if err := t.Protect(context.Background(), reason); err != nil {
				r.logger.Error("protection mode", "error", err)
			}
		},
		Drawer: func(open bool) { r.logger.Info("cash drawer", "open", open) },
	})
	if err != nil {
		cancel()
		return nil, err
	}
	for _, a := range w.Absent() {
		r.logger.Warn("GPIO absent: " + a)
	}
	r.gpio, r.stopGPIO = w, cancel
	return w, nil
}

// gpioPins is the terminal's view of the GPIO watcher, which starts once
// the terminal exists (its tamper handler protects it).
type gpioPins struct{ w atomic.Pointer[gpio.Watcher] }

func (p *gpioPins) Drawer() (open, known bool) {
	if w := p.w.Load(); w != nil {
		return w.Drawer()
	}
	return false, false
}

func (p *gpioPins) WaitClosed(ctx context.Context) error {
	if w := p.w.Load(); w != nil {
		return w.WaitClosed(ctx)
	}
	return gpio.ErrNoDrawer
}

func (p *gpioPins) Absent() []string {
	if w := p.w.Load(); w != nil {
		return w.Absent()
	}
	return nil
}

func assemble(o Options, host *pluginhost.Host, j *journal.Journal, watchGPIO func(gpio.Config, *terminal.Terminal) (*gpio.Watcher, error)) (*terminal.Terminal, flow.Runner, error) {
	cfg := o.Config
	layers := []iofs.FS{flows.Default}
	if cfg.Flows.Dir != "" {
		if st, err := os.Stat(cfg.Flows.Dir); err != nil || !st.IsDir() {
			return nil, nil, fmt.Errorf("flows.dir %q is not a directory", cfg.Flows.Dir)
		}
		layers = append(layers, os.DirFS(cfg.Flows.Dir))
	}
	logf := func(f string, a ...any) { o.Logger.Info(fmt.Sprintf(f, a...)) }
	inst := func(kind string) *pluginhost.Instance {
		in, _ := host.Instance(cfg.PluginOf(kind))
		return in
	}
	pp, pr := inst(base.KindPinPad), inst(base.KindPrinter)
	reg := txn.NewRegistry()
	for _, p := range cfg.Plugins {
		in, _ := host.Instance(p.Name)
		switch p.Kind {
		case base.KindAcquirer:
			reg.SetAcquirer(p.Name, func(ctx context.Context) (channels.Acquirer, error) {
				return pluginhost.Dispense[channels.Acquirer](ctx, in)
			})
		case base.KindWallet:
			m, err := journal.ParseMedium(p.Medium)
			if err == nil {
				err = reg.AddWallet(m, p.Name, func(ctx context.Context) (channels.Wallet, error) {
					return pluginhost.Dispense[channels.Wallet](ctx, in)
				})
			}
			if err != nil {
				return nil, nil, fmt.Errorf("plugin %q: %w", p.Name, err)
			}
		}
	}
	devices := terminal.Devices{
		PinPad: func(ctx context.Context) (pinpad.PinPad, error) { return pluginhost.Dispense[pinpad.PinPad](ctx, pp) },
		Printer: func(ctx context.Context) (printer.Printer, error) {
			return pluginhost.Dispense[printer.Printer](ctx, pr)
		},
	}
	if sc := inst(base.KindScanner); sc != nil {
		devices.Scanner = func(ctx context.Context) (scanner.Scanner, error) {
			return pluginhost.Dispense[scanner.Scanner](ctx, sc)
		}
	}
	policy, err := Policy(cfg.Resolve, cfg.Settle)
	if err != nil {
		return nil, nil, err
	}
	codes, err := cfg.QR.Detector()
	if err != nil {
		return nil, nil, err
	}
	ops, err := operator.Open(o.DataDir, operator.Options{LockFor: cfg.Operators.LockFor()})
	if err != nil {
		return nil, nil, err
	}
	engine, err := newFlows(o, logf, layers)
	if err != nil {
		return nil, nil, err
	}
	pins := &gpioPins{}
	t := terminal.New(terminal.Config{
		Info:      txn.Terminal{TID: cfg.Terminal.TID, MID: cfg.Terminal.MID, MerchantName: cfg.Terminal.MerchantName},
		Operators: ops,
		ExportDir: filepath.Join(o.DataDir, "exports"),
		// A tamper that put the terminal into protection mode holds across
		// a restart.
		ProtectionFile: filepath.Join(o.DataDir, "protection.json"),
		Journal:        j,
		Flows:          engine,
		Logf:           logf,
		Devices:        devices,
		Channels:       reg,
		Policy:         policy,
		Retention:      cfg.History.Retention(),
		QR:             codes,
		GPIO:           pins,
	})
	if gc := cfg.GPIO.Watch(); gc.Tamper != "" || gc.Drawer != "" {
		w, err := watchGPIO(gc, t)
		if err != nil {
			return nil, nil, err
		}
		pins.w.Store(w)
	}
	return t, engine, nil
}

// Policy turns the [resolve] and [settlement] sections into the engine's
// policy; unset values keep the engine's defaults.
func Policy(r config.Resolve, st config.Settle) (txn.Policy, error) {
	p := txn.Policy{ReversalAttempts: r.ReversalAttempts, Settle: txn.SettlePolicy{MaxRecords: st.MaxRecords, SpanDays: st.SpanDays}}
	if st.MaxRecords < -1 {
		return txn.Policy{}, fmt.Errorf("settlement.max_records = %d: want a count of records, or -1 for no limit", st.MaxRecords)
	}
	if st.AutoAt != "" {
		at, err := txn.ParseTimeOfDay(st.AutoAt)
		if err != nil {
			return txn.Policy{}, fmt.Errorf("settlement.auto_at: %w", err)
		}
		p.Settle.AutoAt = &at
	}
	for _, d := range []struct {
		name string
		s    string
		dst  *time.Duration
	}{{"retry_backoff", r.RetryBackoff, &p.RetryBackoff}, {"max_backoff", r.MaxBackoff, &p.MaxBackoff},
		{"wallet_poll_every", r.WalletPollEvery, &p.WalletPollEvery}, {"wallet_poll_for", r.WalletPollFor, &p.WalletPollFor}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil {
			return txn.Policy{}, fmt.Errorf("resolve.%s: %w", d.name, err)
		}
		*d.dst = v
	}
	return p, nil
}

// Specs turns the configured plugins into what the plugin host starts:
// built-ins run as self (the posrt executable) with "plugin serve NAME", or,
// for the built-ins that share a process, one "plugin serve KEY=NAME ..."
// listing every member under its configured name; and "{data}" in config
// values becomes dataDir, "{sim.<kind>}" and "{sim.<kind>.<name>}" the
// address and key files of the running simulator of sims (an error when
// it is not running).
func Specs(c config.Config, self, dataDir string, sims *simset.Set) ([]pluginhost.Spec, error) {
	members := map[string][]string{} // process -> KEY=BUILTIN of its built-ins
	for _, p := range c.Plugins {
		if p.Process != "" && p.Builtin != "" {
			members[p.Process] = append(members[p.Process], p.Name+"="+p.Builtin)
		}
	}
	specs := make([]pluginhost.Spec, len(c.Plugins))
	var errs []error
	for i, p := range c.Plugins {
		cfg := make(map[string]string, len(p.Config))
		for k, v := range p.Config {
			v, err := sims.Expand(strings.ReplaceAll(v, "{data}", dataDir))
			if err != nil {
				errs = append(errs, fmt.Errorf("plugin %q: config %s: %w", p.Name, k, err))
			}
			cfg[k] = v
		}
		timeout, _ := time.ParseDuration(p.CallTimeout)
		s := pluginhost.Spec{Name: p.Name, Kind: p.Kind, Path: p.Path, Args: p.Args, SHA256: p.SHA256, Process: p.Process, Config: cfg, CallTimeout: timeout}
		switch {
		case p.Builtin != "" && len(members[p.Process]) > 1:
			s.Path, s.Args, s.Builtin = self, append([]string{"plugin", "serve"}, members[p.Process]...), true
		case p.Builtin != "":
			s.Path, s.Args, s.Builtin = self, []string{"plugin", "serve", p.Builtin}, true
		case !filepath.IsAbs(s.Path) && c.Source != "":
			s.Path = filepath.Join(filepath.Dir(c.Source), s.Path)
		}
		specs[i] = s
	}
	return specs, errors.Join(errs...)
}

// SocketDir is where this process's plugins keep their unix sockets:
// <data-dir>/run/<pid>. posrt run also makes it its own temporary
// directory, so the sockets it serves plugins on live there too.
func SocketDir(dataDir string) string {
	return filepath.Join(socketRoot(dataDir), strconv.Itoa(os.Getpid()))
}

// maxSocketPath is the longest unix socket path the kernel takes (108
// bytes with the terminating NUL), less a margin.
const maxSocketPath = 100

// socketRoot is <data-dir>/run, unless a socket in it would not fit a unix
// socket path (go-plugin names them "plugin" and ten digits): then a
// directory in the system's temporary directory named after the data
// directory, so that two terminals never share one.
func socketRoot(dataDir string) string {
	root := filepath.Join(dataDir, "run")
	if len(root)+len("/4194304/plugin0123456789") <= maxSocketPath {
		return root
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(systemTemp, "posrt-run-"+hex.EncodeToString(sum[:6]))
}

// systemTemp is the temporary directory as posrt found it (posrt run
// points TMPDIR at its socket directory).
var systemTemp = os.TempDir()

// MakeSocketDir creates this process's socket directory (SocketDir) and
// checks that its parent is a directory of this user's that nobody else
// may enter: in a shared temporary directory it may have been made by
// another user first.
func MakeSocketDir(dataDir string) (string, error) {
	root, dir := socketRoot(dataDir), SocketDir(dataDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating the plugin socket directory: %w", err)
	}
	st, err := os.Lstat(root)
	if err != nil {
		return "", fmt.Errorf("checking the plugin socket directory: %w", err)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !st.IsDir() || st.Mode().Perm()&0o077 != 0 || ok && int(sys.Uid) != os.Getuid() {
		return "", fmt.Errorf("plugin socket directory %s is not a directory of this user's closed to others (mode %v): remove it, or use a shorter --data-dir", root, st.Mode())
	}
	return dir, nil
}

// cleanStaleSockets removes the plugin socket directories of posrt
// processes that no longer run (one killed with SIGKILL leaves its own):
// each process keeps its sockets in dir/<pid>.
func cleanStaleSockets(dir string, logger hclog.Logger) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && pid > 0 && syscall.Kill(pid, 0) == nil {
			continue // a posrt (or a process with its pid) still runs
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			logger.Warn("removing stale plugin sockets", "dir", e.Name(), "error", err)
		}
	}
}

// newFlows returns the flow runner: flows.workers worker processes
// (`posrt flow worker`, each with flows.memory_limit), or the engine in
// this process when workers is 0 or posrt has no executable to start.
func newFlows(o Options, logf func(string, ...any), layers []iofs.FS) (flow.Runner, error) {
	cfg := o.Config.Flows
	timeout, err := cfg.TimeoutDuration()
	if err != nil {
		return nil, err
	}
	if cfg.Workers == 0 || o.Self == "" {
		return flow.New(flow.Options{Logf: logf, Timeout: timeout}, layers...)
	}
	sources, err := flow.ReadLayers(layers...)
	if err != nil {
		return nil, err
	}
	limit, err := cfg.MemoryLimitBytes()
	if err != nil {
		return nil, err
	}
	self := o.Self
	return flow.NewPool(flow.PoolOptions{
		Command:     func() *exec.Cmd { return exec.Command(self, "flow", "worker") },
		Size:        cfg.Workers,
		Timeout:     timeout,
		MemoryLimit: int64(limit),
		Logf:        logf,
	}, sources)
}
