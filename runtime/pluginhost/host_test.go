package pluginhost

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/posrt/posrt/plugins/base"
	basepb "github.com/posrt/posrt/plugins/base/proto"
	"github.com/posrt/posrt/plugins/pinpad"
	pinpadfake "github.com/posrt/posrt/plugins/pinpad/fake"
	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/runtime/runtimetest"
)

// The test binary doubles as the plugin: run with -posrt-serve MODE it
// serves testPrinter (or, for MODE "old", speaks another protocol version).
func TestMain(m *testing.M) {
	for i, a := range os.Args {
		if a == "-posrt-serve" && i+1 < len(os.Args) {
			serveTestPlugin(os.Args[i+1])
			return
		}
	}
	os.Exit(m.Run())
}

func serveTestPlugin(mode string) {
	if mode == "instances" {
		// -posrt-serve instances KEY=KIND ...: one process, several plugins.
		instances := map[string]goplugin.Plugin{}
		for _, a := range os.Args {
			key, kind, ok := strings.Cut(a, "=")
			switch {
			case !ok:
			case kind == base.KindPrinter:
				instances[key] = printer.NewPlugin(&testPrinter{})
			case kind == base.KindPinPad:
				instances[key] = pinpad.NewPlugin(pinpadfake.NewFake())
			}
		}
		base.ServeInstances(instances)
		return
	}
	if mode == "old" {
		hs := base.Handshake
		hs.ProtocolVersion = base.ProtocolVersion + 98
		goplugin.Serve(&goplugin.ServeConfig{
			HandshakeConfig: hs,
			Plugins:         goplugin.PluginSet{base.KindPrinter: printer.NewPlugin(&testPrinter{})},
			GRPCServer:      goplugin.DefaultGRPCServer,
		})
		return
	}
	switch mode {
	case "watched":
		printer.Serve(&watchedPrinter{})
		return
	case "unwatched":
		// A plugin built against a base contract without Watch: the base
		// service answers Watch Unimplemented.
		goplugin.Serve(&goplugin.ServeConfig{
			HandshakeConfig: base.Handshake,
			Plugins:         goplugin.PluginSet{base.KindPrinter: noWatchGlue{printer.NewPlugin(&testPrinter{}).(*base.Glue[printer.Printer])}},
			GRPCServer:      goplugin.DefaultGRPCServer,
		})
		return
	}
	printer.Serve(&testPrinter{})
}

// watchedPrinter is testPrinter reporting its state through a Monitor:
// a line "state:STATE:COND,COND" sets it, "report:CODE:MESSAGE" reports
// an error event.
type watchedPrinter struct {
	testPrinter
	mon base.Monitor
}

func (p *watchedPrinter) Configure(ctx context.Context, api string, cfg map[string]string) error {
	if err := p.testPrinter.Configure(ctx, api, cfg); err != nil {
		return err
	}
	p.mon.Set(base.Health{State: base.StateIdle})
	return nil
}
func (p *watchedPrinter) Health(ctx context.Context) (base.Health, error) { return p.mon.Health(ctx) }
func (p *watchedPrinter) Watch(ctx context.Context, send func(base.Event) error) error {
	return p.mon.Watch(ctx, send)
}
func (p *watchedPrinter) Print(ctx context.Context, job printer.Job) error {
	for _, l := range job.Document.Lines {
		if rest, ok := strings.CutPrefix(l.Text, "state:"); ok {
			state, conds, _ := strings.Cut(rest, ":")
			h := base.Health{State: state, Detail: "set by the test"}
			if conds != "" {
				h.Conditions = strings.Split(conds, ",")
			}
			p.mon.Set(h)
			return nil
		}
		if rest, ok := strings.CutPrefix(l.Text, "report:"); ok {
			code, msg, _ := strings.Cut(rest, ":")
			p.mon.Report(code, msg)
			return nil
		}
	}
	return p.testPrinter.Print(ctx, job)
}

// noWatchGlue serves the printer glue's services with a base service
// that lacks Watch.
type noWatchGlue struct{ *base.Glue[printer.Printer] }

func (g noWatchGlue) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	basepb.RegisterBaseServer(s, oldBase{impl: g.Impl})
	g.Register(s, g.Impl)
	return nil
}

// oldBase is the base service as it was before Watch.
type oldBase struct {
	basepb.UnimplementedBaseServer
	impl base.Base
}

func (b oldBase) Info(ctx context.Context, _ *basepb.InfoRequest) (*basepb.InfoResponse, error) {
	i, _ := b.impl.Info(ctx)
	return &basepb.InfoResponse{Kind: i.Kind, Name: i.Name, Version: i.Version, ApiVersions: i.APIVersions}, nil
}
func (b oldBase) Configure(ctx context.Context, r *basepb.ConfigureRequest) (*basepb.ConfigureResponse, error) {
	return &basepb.ConfigureResponse{}, b.impl.Configure(ctx, r.GetApiVersion(), r.GetConfig())
}
func (b oldBase) Health(ctx context.Context, _ *basepb.HealthRequest) (*basepb.HealthResponse, error) {
	h, _ := b.impl.Health(ctx)
	return &basepb.HealthResponse{State: h.State, Detail: h.Detail}, nil
}

// testPrinter is a minimal printer whose Print takes orders from its text:
// "sleep:DURATION" sleeps, "hang-health" wedges Health forever, "log:MSG"
// logs MSG on stderr as the plugin's own log line.
// "whoami" fails with the configured "label", and Health's detail is it.
type testPrinter struct {
	mu    sync.Mutex
	wedge bool
	label string
}

func (p *testPrinter) Info(context.Context) (base.Info, error) {
	return base.Info{Kind: base.KindPrinter, Name: "test-printer", Version: "1.2.3", APIVersions: printer.APIVersions}, nil
}
func (p *testPrinter) Configure(_ context.Context, api string, cfg map[string]string) error {
	if cfg["refuse"] != "" {
		return errors.New("config key refuse: refused as asked")
	}
	p.mu.Lock()
	p.label = cfg["label"]
	p.mu.Unlock()
	if f := cfg["refuse_if_exists"]; f != "" {
		if _, err := os.Stat(f); err == nil {
			return errors.New("config key refuse_if_exists: the file exists")
		}
	}
	return nil
}
func (p *testPrinter) Health(ctx context.Context) (base.Health, error) {
	p.mu.Lock()
	w, label := p.wedge, p.label
	p.mu.Unlock()
	if w {
		select {} // a wedged device loop: never answers
	}
	return base.Health{State: base.StateIdle, Detail: label}, nil
}
func (p *testPrinter) Status(context.Context) (printer.Status, error) { return printer.Status{}, nil }
func (p *testPrinter) OpenDrawer(context.Context) error               { return printer.ErrNoDrawer }
func (p *testPrinter) Print(ctx context.Context, job printer.Job) error {
	for _, l := range job.Document.Lines {
		switch {
		case strings.HasPrefix(l.Text, "sleep:"):
			dur, _ := time.ParseDuration(strings.TrimPrefix(l.Text, "sleep:"))
			time.Sleep(dur)
		case l.Text == "hang-health":
			p.mu.Lock()
			p.wedge = true
			p.mu.Unlock()
		case strings.HasPrefix(l.Text, "log:"):
			base.Logger().Info(strings.TrimPrefix(l.Text, "log:"))
		case l.Text == "whoami":
			p.mu.Lock()
			defer p.mu.Unlock()
			return fmt.Errorf("i am %q", p.label)
		case l.Text == "paper-out":
			return printer.ErrPaperOut
		}
	}
	return nil
}

func kinds() map[string]Kind {
	return map[string]Kind{
		base.KindPrinter: {Plugin: printer.NewPlugin(nil), APIVersions: printer.APIVersions, CallTimeout: 5 * time.Second},
		base.KindPinPad:  {Plugin: pinpad.NewPlugin(nil), APIVersions: pinpad.APIVersions},
	}
}

func selfSHA(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func spec(t *testing.T, mode string) Spec {
	return Spec{Name: "receipts", Kind: base.KindPrinter, Path: os.Args[0], Args: []string{"-posrt-serve", mode}, SHA256: selfSHA(t)}
}

func startHost(t *testing.T, logs io.Writer, specs ...Spec) *Host {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	h := New(Options{
		Logger:         hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Info}),
		Kinds:          kinds(),
		HealthInterval: 100 * time.Millisecond,
		HealthTimeout:  200 * time.Millisecond,
		MinBackoff:     20 * time.Millisecond,
	})
	if err := h.Start(context.Background(), specs); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Shutdown(context.Background()) })
	return h
}

func printerOf(t *testing.T, h *Host, ctx context.Context) printer.Printer {
	t.Helper()
	in, ok := h.Instance("receipts")
	if !ok {
		t.Fatal("no instance")
	}
	p, err := Dispense[printer.Printer](ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func print(ctx context.Context, p printer.Printer, text string) error {
	return p.Print(ctx, printer.Job{ID: printer.JobID(text), Document: printer.Document{Lines: []printer.Line{{Text: text}}}})
}

func alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

func TestStartCallAndStatus(t *testing.T) {
	h := startHost(t, nil, spec(t, "printer"))
	st := h.Status()
	if len(st) != 1 || st[0].PID <= 0 || st[0].Health != base.StateIdle || st[0].Plugin != "test-printer" || st[0].APIVersion != "v1" || st[0].Kind != base.KindPrinter {
		t.Fatalf("status = %+v", st)
	}
	p := printerOf(t, h, context.Background())
	if err := print(context.Background(), p, "hello"); err != nil {
		t.Fatal(err)
	}
	// A sentinel error crosses the process boundary intact.
	if err := print(context.Background(), p, "paper-out"); !errors.Is(err, printer.ErrPaperOut) {
		t.Fatalf("Print = %v, want ErrPaperOut", err)
	}
}

func TestChecksumMismatchIsRefused(t *testing.T) {
	s := spec(t, "printer")
	s.SHA256 = strings.Repeat("ab", 32)
	h := New(Options{Kinds: kinds()})
	err := h.Start(context.Background(), []Spec{s})
	if err == nil {
		t.Fatal("plugin with a wrong checksum started")
	}
	for _, want := range []string{`"receipts"`, os.Args[0], s.SHA256, selfSHA(t), "checksum mismatch"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	s.SHA256 = ""
	if err := New(Options{Kinds: kinds()}).Start(context.Background(), []Spec{s}); err == nil || !strings.Contains(err.Error(), "no sha256") {
		t.Errorf("plugin without a checksum: %v", err)
	}
}

func TestHandshakeMismatchIsRefused(t *testing.T) {
	h := New(Options{Kinds: kinds()})
	err := h.Start(context.Background(), []Spec{spec(t, "old")})
	if err == nil || !strings.Contains(err.Error(), `plugin "receipts"`) || !strings.Contains(err.Error(), "handshake failed") {
		t.Fatalf("old-protocol plugin: %v", err)
	}
}

func TestKindMismatchAndConfigErrorAreRefused(t *testing.T) {
	s := spec(t, "printer")
	s.Kind = base.KindPinPad
	err := New(Options{Kinds: kinds()}).Start(context.Background(), []Spec{s})
	if err == nil || !strings.Contains(err.Error(), `says it is a "printer" plugin`) {
		t.Fatalf("kind mismatch: %v", err)
	}
	s = spec(t, "printer")
	s.Config = map[string]string{"refuse": "yes"}
	err = New(Options{Kinds: kinds()}).Start(context.Background(), []Spec{s})
	if err == nil || !strings.Contains(err.Error(), "config key refuse") {
		t.Fatalf("config refused: %v", err)
	}
}

func TestHostEnvironmentIsNotLeaked(t *testing.T) {
	t.Setenv("POSRT_TEST_SECRET", "do-not-pass-me")
	h := startHost(t, nil, spec(t, "printer"))
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", h.Status()[0].PID))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if bytes.Contains(env, []byte("POSRT_TEST_SECRET")) || bytes.Contains(env, []byte("PATH=")) {
		t.Fatalf("plugin environment leaks the host's: %q", env)
	}
	if !bytes.Contains(env, []byte(base.Handshake.MagicCookieKey)) {
		t.Fatalf("plugin environment lacks the handshake cookie: %q", env)
	}
}

func TestPluginLogsAreMergedUnderItsName(t *testing.T) {
	var logs runtimetest.Buffer
	h := startHost(t, &logs, spec(t, "printer"))
	if err := print(context.Background(), printerOf(t, h, context.Background()), "log:drawer sensor saw a coin"); err != nil {
		t.Fatal(err)
	}
	runtimetest.WaitFor(t, "the plugin's log line", func() bool {
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "drawer sensor saw a coin") && strings.Contains(l, "receipts") {
				return true
			}
		}
		return false
	})
}

func TestCrashedPluginIsRestarted(t *testing.T) {
	h := startHost(t, nil, spec(t, "printer"))
	old := h.Status()[0].PID
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	runtimetest.WaitFor(t, "restart", func() bool {
		s := h.Status()[0]
		return s.Restarts == 1 && s.PID > 0 && s.PID != old && s.Health == base.StateIdle
	})
	if err := print(context.Background(), printerOf(t, h, context.Background()), "after restart"); err != nil {
		t.Fatal(err)
	}
}

func TestCallerWaitsForRestart(t *testing.T) {
	h := startHost(t, nil, spec(t, "printer"))
	h.opts.HealthInterval = time.Hour // only the caller can notice
	if err := syscall.Kill(h.Status()[0].PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	runtimetest.WaitFor(t, "exit noticed", func() bool { in, _ := h.Instance("receipts"); return in.proc.clientNow().Exited() })
	if err := print(ctx, printerOf(t, h, ctx), "x"); err != nil {
		t.Fatalf("call after a crash did not wait for the restart: %v", err)
	}
}

func TestHungPluginIsRestarted(t *testing.T) {
	h := startHost(t, nil, spec(t, "printer"))
	old := h.Status()[0].PID
	if err := print(context.Background(), printerOf(t, h, context.Background()), "hang-health"); err != nil {
		t.Fatal(err)
	}
	runtimetest.WaitFor(t, "restart of the hung plugin", func() bool {
		s := h.Status()[0]
		return s.Restarts == 1 && s.PID != old && s.Health == base.StateIdle
	})
	if alive(old) {
		t.Fatalf("hung plugin %d still running after its restart", old)
	}
}

func TestEveryCallHasADeadline(t *testing.T) {
	s := spec(t, "printer")
	s.CallTimeout = 200 * time.Millisecond
	h := startHost(t, nil, s)
	err := print(context.Background(), printerOf(t, h, context.Background()), "sleep:5s")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call without a deadline = %v, want deadline exceeded", err)
	}
}

func TestShutdownDrainsCallsInFlight(t *testing.T) {
	h := startHost(t, nil, spec(t, "printer"))
	pid := h.Status()[0].PID
	p := printerOf(t, h, context.Background())
	done := make(chan error, 1)
	go func() { done <- print(context.Background(), p, "sleep:400ms") }()
	time.Sleep(100 * time.Millisecond)
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("call in flight at shutdown failed: %v", err)
	}
	if alive(pid) {
		t.Fatalf("plugin %d still running after shutdown", pid)
	}
	in, _ := h.Instance("receipts")
	if _, err := Dispense[printer.Printer](context.Background(), in); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("Dispense after shutdown = %v", err)
	}
}

func TestCallsFailFastWhileAPluginStaysDown(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "broken")
	s := spec(t, "printer")
	s.Config = map[string]string{"refuse_if_exists": marker}
	h := New(Options{Kinds: kinds(), HealthInterval: 50 * time.Millisecond, MinBackoff: 20 * time.Millisecond, DownWait: 300 * time.Millisecond})
	if err := h.Start(context.Background(), []Spec{s}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Shutdown(context.Background()) })
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(h.Status()[0].PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	runtimetest.WaitFor(t, "the plugin marked down", func() bool { return h.Status()[0].Health == HealthDown })
	in, _ := h.Instance("receipts")
	start := time.Now()
	_, err := Dispense[printer.Printer](context.Background(), in)
	if !errors.Is(err, base.ErrUnavailable) || !strings.Contains(err.Error(), "did not come back") {
		t.Fatalf("Dispense of a plugin that stays down = %v", err)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Fatalf("Dispense waited %v for a plugin that stays down", waited)
	}
	runtimetest.WaitFor(t, "the status to say why the restart fails", func() bool {
		return strings.Contains(h.Status()[0].Detail, "refuse_if_exists")
	})
	// Fixed, it comes back by itself.
	if err := os.Remove(marker); err != nil {
		t.Fatal(err)
	}
	runtimetest.WaitFor(t, "the plugin back", func() bool { return h.Status()[0].Health == base.StateIdle })
}

// A frozen plugin process (SIGSTOP: it answers nothing, not even go-plugin's
// own shutdown request) is killed and replaced.
func TestFrozenPluginIsReplaced(t *testing.T) {
	h := startHost(t, nil, spec(t, "printer"))
	old := h.Status()[0].PID
	if err := syscall.Kill(old, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(old, syscall.SIGKILL) })
	runtimetest.WaitFor(t, "the frozen plugin's replacement", func() bool {
		s := h.Status()[0]
		return s.Restarts == 1 && s.PID != old && s.Health == base.StateIdle
	})
	if alive(old) {
		t.Fatalf("frozen plugin %d still exists after its replacement", old)
	}
	if err := print(context.Background(), printerOf(t, h, context.Background()), "after freeze"); err != nil {
		t.Fatal(err)
	}
}

func TestShutdownStopsAFrozenPlugin(t *testing.T) {
	h := New(Options{Kinds: kinds(), HealthInterval: time.Hour})
	if err := h.Start(context.Background(), []Spec{spec(t, "printer")}); err != nil {
		t.Fatal(err)
	}
	pid := h.Status()[0].PID
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	done := make(chan error, 1)
	go func() { done <- h.Shutdown(context.Background()) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Shutdown hung on a frozen plugin")
	}
	runtimetest.WaitFor(t, "the frozen plugin gone", func() bool { return !alive(pid) })
}

// A watched plugin's state reaches the host by its event stream, not by
// the supervisor's checks (an hour apart here), and the stream follows
// the plugin through a restart.
func TestDeviceEventsAreWatched(t *testing.T) {
	h := startHost(t, nil, spec(t, "watched"))
	h.opts.HealthInterval = time.Hour
	ctx := context.Background()
	status := func() Status { return h.Status()[0] }
	runtimetest.WaitFor(t, "the watch", func() bool { return status().Events == EventsWatched })
	if err := print(ctx, printerOf(t, h, ctx), "state:error:paper_near_end,cover_open"); err != nil {
		t.Fatal(err)
	}
	runtimetest.WaitFor(t, "the status event", func() bool { return status().Health == base.StateError })
	if s := status(); !slices.Equal(s.Conditions, []string{"cover_open", "paper_near_end"}) || s.Detail != "set by the test" {
		t.Errorf("status %+v, want the conditions sorted and the detail", s)
	}
	if err := print(ctx, printerOf(t, h, ctx), "report:paper out:the roll ran out mid-receipt"); err != nil {
		t.Fatal(err)
	}
	runtimetest.WaitFor(t, "the error event", func() bool { return status().LastError != "" })
	s := status()
	if s.LastError != "paper out: the roll ran out mid-receipt" || s.LastErrorAt == nil || time.Since(*s.LastErrorAt) > time.Minute {
		t.Errorf("status %+v, want the last error with its time", s)
	}
	if err := syscall.Kill(s.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	runtimetest.WaitFor(t, "exit noticed", func() bool { in, _ := h.Instance("receipts"); return in.proc.clientNow().Exited() })
	if err := print(ctx, printerOf(t, h, ctx), "state:busy:"); err != nil {
		t.Fatal(err)
	}
	runtimetest.WaitFor(t, "the new process's events", func() bool { s := status(); return s.Health == base.StateBusy && s.Restarts == 1 })
	if s := status(); s.LastError == "" || s.Conditions != nil {
		t.Errorf("status after the restart %+v, want the last error kept and no conditions", s)
	}
}

// A plugin whose base service lacks Watch is polled.
func TestPluginWithoutWatchIsPolled(t *testing.T) {
	s := spec(t, "unwatched")
	s.Config = map[string]string{"label": "first"}
	h := startHost(t, nil, s)
	runtimetest.WaitFor(t, "polled state", func() bool { st := h.Status()[0]; return st.Events == EventsPolled && st.Detail == "first" })
}
