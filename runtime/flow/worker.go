package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"sync"
	"time"
)

// ServeWorker is a flow worker's main loop (`posrt flow worker`): it reads
// the flows from the runtime's init frame, compiles them, and runs each
// flow the runtime asks for against the runtime's Host, reached through
// call frames. It returns when the runtime closes the pipe. A worker whose
// Go heap grows past the init frame's memory limit says so and exits: a
// flow cannot take more, and the runtime starts another worker.
func ServeWorker(r io.Reader, w io.Writer, logf func(string, ...any)) error {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	// The worker decides its own collections (collector), unless GOGC in
	// the environment does.
	gc := newCollector(os.Getenv("GOGC") == "")
	// POSRT_FLOW_WORKER_CPUPROFILE=PREFIX: each worker writes a CPU
	// profile of its life to PREFIX.PID (for docs/PERFORMANCE.md).
	if prefix := os.Getenv("POSRT_FLOW_WORKER_CPUPROFILE"); prefix != "" {
		f, err := os.Create(fmt.Sprintf("%s.%d", prefix, os.Getpid()))
		if err != nil {
			return fmt.Errorf("creating the worker's profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("starting the worker's profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	c := &conn{r: r, w: w}
	init, err := c.read()
	if err != nil {
		return fmt.Errorf("reading the init frame: %w", err)
	}
	if init.Type != frameInit {
		return fmt.Errorf("the runtime sent %q before init", init.Type)
	}
	var watch *watchdog
	if init.MemoryLimit > 0 {
		// The collector works hard from half the limit, so that garbage
		// never counts against a flow; the watchdog ends the worker at
		// the limit itself, checking while a flow runs.
		debug.SetMemoryLimit(init.MemoryLimit / 2)
		watch = newWatchdog(c, init.MemoryLimit)
	}
	e, err := NewFromSources(Options{Timeout: time.Duration(init.TimeoutMS) * time.Millisecond, Logf: logf}, init.Sources)
	if err != nil {
		_ = c.write(frame{Type: frameReady, Err: AsError(err)})
		return err
	}
	// Each run gets a fresh sandbox, built while the worker waits for the
	// run rather than once it has come.
	next := newSandbox()
	if err := c.write(frame{Type: frameReady}); err != nil {
		return err
	}
	for {
		f, err := c.read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if f.Type != frameRun {
			return fmt.Errorf("the runtime sent %q where a run was due", f.Type)
		}
		gc.started()
		stop := watch.start()
		out, err := e.runIn(context.Background(), next, remoteHostOf(c, watch, f.Caps), f.Flow, f.Input)
		stop()
		res := frame{Type: frameResult, Output: out}
		if err != nil {
			res.Err = AsError(err)
		}
		if err := c.write(res); err != nil {
			return err
		}
		gc.ended()
		next = newSandbox()
	}
}

// A worker collects its garbage between runs, not during them: a
// collection costs a worker half a millisecond or more of processor time
// however little it finds (its heap is a megabyte or two), more than a
// sale's whole flow, and a sale's flow leaves a few hundred kilobytes
// behind.
const (
	// collectAbove is how much garbage a run's end leaves for later: above
	// it, the worker collects as it waits for the next run.
	collectAbove = 4 << 20
	// collectIdle is how long a worker waits for the next run before it
	// collects what the runs before left, so that an idle worker stays
	// small.
	collectIdle = 100 * time.Millisecond
	// workerGCPercent is a worker's GOGC between runs (as plugins/base
	// sets for a plugin process: collection at a quarter over the live
	// heap); runGCPercent while a flow runs, in effect none until the
	// memory limit.
	workerGCPercent = 25
	runGCPercent    = 1 << 20
)

// collector paces a worker's collections unless GOGC in the environment
// does (a nil collector). While a flow runs there is none but the memory
// limit's (half the worker's limit; the watchdog still ends the worker at
// the limit itself): GOGC is runGCPercent, not off (-1), since setting
// that waits for a collection under way to finish. When a run has ended
// with more than collectAbove of garbage, GOGC goes back to
// workerGCPercent: the next allocation, the next run's sandbox built while
// the worker waits, starts a collection in the background. A worker that
// waits collectIdle collects what is left and returns the free memory to
// the system (the next run, after the idle time, was not measurably slower
// for it).
type collector struct {
	heap []metrics.Sample // ran's
	idle *time.Timer

	mu      sync.Mutex
	running bool // a run has started and not ended
}

func newCollector(managed bool) *collector {
	if !managed {
		return nil
	}
	debug.SetGCPercent(runGCPercent)
	g := &collector{heap: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}}
	g.idle = time.AfterFunc(time.Hour, func() {
		g.mu.Lock()
		if g.running {
			g.mu.Unlock()
			return // the timer fired as a run started
		}
		debug.SetGCPercent(workerGCPercent)
		g.mu.Unlock()
		debug.FreeOSMemory()
	})
	g.idle.Stop()
	return g
}

// started is called as a run starts.
func (g *collector) started() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running = true
	g.idle.Stop()
	debug.SetGCPercent(runGCPercent)
}

// ended is called once a run's result is sent.
func (g *collector) ended() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running = false
	metrics.Read(g.heap)
	if objects, live := g.heap[0].Value.Uint64(), g.heap[1].Value.Uint64(); objects > live+collectAbove {
		debug.SetGCPercent(workerGCPercent)
	}
	g.idle.Reset(collectIdle)
}

// memoryPoll is how often a worker checks its heap while a flow's Lua
// code runs.
const memoryPoll = 2 * time.Millisecond

// watchdog ends the worker once its heap holds more than limit bytes. It
// checks after every memoryPoll of the time a flow's Lua code runs, not
// of the time the flow waits for the runtime's answers (the card, the PIN,
// the acquirer: most of a sale), when the flow allocates nothing but the
// answer, itself bounded by maxFrame: a sale whose Lua code runs in
// stretches shorter than memoryPoll is not woken once, and a flow that
// allocates between calls is checked as often, by the time it has run,
// as one that never calls.
type watchdog struct {
	limit int64
	heap  func() uint64 // the heap's size now
	over  func()        // ends the worker

	mu    sync.Mutex
	timer *time.Timer
	armed bool          // Lua code runs; the timer is set
	due   time.Time     // when the timer fires, while armed
	left  time.Duration // the running time left to the next check, while not
}

func newWatchdog(c *conn, limit int64) *watchdog {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	return newWatchdogWith(limit, func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }, func() {
		_ = c.write(frame{Type: frameFatal, Err: &Error{Code: CodeFlowError,
			Message: fmt.Sprintf("it used more than the %d MiB of memory a flow may", limit>>20)}})
		os.Exit(3)
	})
}

// newWatchdogWith is a watchdog reading the heap's size with heap and
// ending the worker with over.
func newWatchdogWith(limit int64, heap func() uint64, over func()) *watchdog {
	d := &watchdog{limit: limit, heap: heap, over: over}
	d.timer = time.AfterFunc(time.Hour, d.check)
	d.timer.Stop()
	return d
}

// check ends the worker if its heap is over the limit, and sets the
// timer for the next check if Lua code still runs.
func (d *watchdog) check() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.heap() > uint64(d.limit) {
		d.over()
		return
	}
	if d.armed {
		d.due = time.Now().Add(memoryPoll)
		d.timer.Reset(memoryPoll)
	} else {
		d.left = memoryPoll
	}
}

// start watches a run until the returned stop is called; a nil watchdog
// watches nothing.
func (d *watchdog) start() (stop func()) {
	if d == nil {
		return func() {}
	}
	d.mu.Lock()
	d.left = memoryPoll
	d.mu.Unlock()
	d.resume()
	return d.pause
}

// pause stops the clock while the flow waits for the runtime.
func (d *watchdog) pause() {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.armed {
		d.armed = false
		d.timer.Stop()
		d.left = max(time.Until(d.due), 0)
	}
}

// resume starts the clock again as the flow's Lua code goes on.
func (d *watchdog) resume() {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.armed {
		d.armed = true
		d.due = time.Now().Add(d.left)
		d.timer.Reset(d.left)
	}
}

// remoteHost is the runtime's Host as a worker reaches it.
type remoteHost struct {
	c     *conn
	watch *watchdog // paused while a call waits for its reply
	next  int64
	args  []byte // the arguments of the call being written
	// terminal is the terminal as the last reply left it (txn.execute's
	// carries it), the answer to a terminal.info called next; any other
	// call clears it.
	terminal *TerminalView
}

// hostModules are Host's modules under the names a run frame lists them
// by: whether a host has the module, and how a worker's Host gets it.
var hostModules = []struct {
	name string
	has  func(Host) bool
	set  func(*Host, *remoteHost)
}{
	{"ui", func(h Host) bool { return h.UI != nil }, func(h *Host, r *remoteHost) { h.UI = r }},
	{"events", func(h Host) bool { return h.Events != nil }, func(h *Host, r *remoteHost) { h.Events = r }},
	{"pinpad", func(h Host) bool { return h.PinPad != nil }, func(h *Host, r *remoteHost) { h.PinPad = r }},
	{"scanner", func(h Host) bool { return h.Scanner != nil }, func(h *Host, r *remoteHost) { h.Scanner = r }},
	{"txn", func(h Host) bool { return h.Txn != nil }, func(h *Host, r *remoteHost) { h.Txn = r }},
	{"printer", func(h Host) bool { return h.Printer != nil }, func(h *Host, r *remoteHost) { h.Printer = r }},
	{"terminal", func(h Host) bool { return h.Terminal != nil }, func(h *Host, r *remoteHost) { h.Terminal = r }},
	{"journal", func(h Host) bool { return h.Journal != nil }, func(h *Host, r *remoteHost) { h.Journal = r }},
	{"access", func(h Host) bool { return h.Access != nil }, func(h *Host, r *remoteHost) { h.Access = r }},
}

// remoteHostOf is the Host of a run whose host has the modules caps: the
// others stay nil, as they are on the runtime's side.
func remoteHostOf(c *conn, watch *watchdog, caps []string) Host {
	r := &remoteHost{c: c, watch: watch}
	var out Host
	for _, m := range hostModules {
		if slices.Contains(caps, m.name) {
			m.set(&out, r)
		}
	}
	return out
}

// capsOf lists the modules host has, for the run frame.
func capsOf(host Host) []string {
	var caps []string
	for _, m := range hostModules {
		if m.has(host) {
			caps = append(caps, m.name)
		}
	}
	return caps
}

// callHost sends one call and waits for its reply: during a run the
// runtime sends nothing but replies, in order.
func callHost[R any](h *remoteHost, method string, args any) (R, error) {
	var zero R
	h.terminal = nil
	a, err := wireAppend(h.args[:0], args)
	if err != nil {
		return zero, fmt.Errorf("%s: encoding the arguments: %w", method, err)
	}
	h.args = a
	h.next++
	h.watch.pause()
	defer h.watch.resume()
	if err := h.c.write(frame{Type: frameCall, ID: h.next, Method: method, Payload: a}); err != nil {
		return zero, err
	}
	f, err := h.c.read()
	if err != nil {
		return zero, fmt.Errorf("%s: the runtime did not answer: %w", method, err)
	}
	if f.Type != frameReply || f.ID != h.next {
		return zero, fmt.Errorf("%s: the runtime answered %s %d, want the reply to %d", method, f.Type, f.ID, h.next)
	}
	if f.Err != nil {
		return zero, f.Err
	}
	h.terminal = f.Terminal
	var r R
	if err := wireDecode(f.Payload, &r); err != nil {
		return zero, fmt.Errorf("%s: decoding the reply: %w", method, err)
	}
	return r, nil
}

func (h *remoteHost) ReadCard(_ context.Context, a ReadCardArgs) (CardView, error) {
	return callHost[CardView](h, "pinpad.read_card", a)
}

func (h *remoteHost) GetPIN(_ context.Context, a GetPINArgs) (PINView, error) {
	return callHost[PINView](h, "pinpad.get_pin", a)
}

func (h *remoteHost) Display(_ context.Context, lines []string) error {
	_, err := callHost[struct{}](h, "pinpad.display", lines)
	return err
}

func (h *remoteHost) ReadCode(context.Context) (CodeView, error) {
	return callHost[CodeView](h, "scanner.read_code", nil)
}

func (h *remoteHost) Execute(_ context.Context, a ExecuteArgs) (TxnView, error) {
	return callHost[TxnView](h, "txn.execute", a)
}

func (h *remoteHost) Record(context.Context) (TxnView, error) {
	return callHost[TxnView](h, "txn.record", nil)
}

func (h *remoteHost) Print(_ context.Context, a PrintArgs) error {
	_, err := callHost[struct{}](h, "printer.print", a)
	return err
}

// Info answers from the last reply if it carried the terminal (a
// terminal.info right after txn.execute, as a receipt is printed), with a
// call otherwise.
func (h *remoteHost) Info(context.Context) (TerminalView, error) {
	if v := h.terminal; v != nil {
		h.terminal = nil
		return *v, nil
	}
	return callHost[TerminalView](h, "terminal.info", nil)
}

func (h *remoteHost) Login(context.Context) (OperatorView, error) {
	return callHost[OperatorView](h, "terminal.login", struct{}{})
}

func (h *remoteHost) Lock(context.Context) error {
	_, err := callHost[struct{}](h, "terminal.lock", struct{}{})
	return err
}

func (h *remoteHost) UnlockProtection(context.Context) (TerminalView, error) {
	return callHost[TerminalView](h, "terminal.unlock_protection", struct{}{})
}

func (h *remoteHost) ClearCache(_ context.Context, a ClearArgs) (ClearView, error) {
	return callHost[ClearView](h, "terminal.clear_cache", a)
}

func (h *remoteHost) Wait(_ context.Context, a WaitArgs) (Event, error) {
	return callHost[Event](h, "events.wait", a)
}

func (h *remoteHost) Find(_ context.Context, q JournalQuery) ([]TxnView, error) {
	return callHost[[]TxnView](h, "journal.find", q)
}

func (h *remoteHost) Summary(_ context.Context, a SummaryArgs) (SummaryView, error) {
	return callHost[SummaryView](h, "journal.summary", a)
}

func (h *remoteHost) Show(_ context.Context, m Message) error {
	_, err := callHost[struct{}](h, "ui.show", m)
	return err
}

func (h *remoteHost) Confirm(_ context.Context, p Prompt) (bool, error) {
	return callHost[bool](h, "ui.confirm", p)
}

func (h *remoteHost) Choose(_ context.Context, p Prompt) (int, error) {
	return callHost[int](h, "ui.choose", p)
}

func (h *remoteHost) EnterAmount(_ context.Context, p Prompt) (int64, error) {
	return callHost[int64](h, "ui.enter_amount", p)
}

func (h *remoteHost) Progress(_ context.Context, p Progress) error {
	_, err := callHost[struct{}](h, "ui.progress", p)
	return err
}

// hostMethod serves one call on the runtime's side: it decodes the
// arguments, calls the module of host and appends the reply to b.
type hostMethod func(ctx context.Context, host Host, args, b []byte) ([]byte, error)

// hostMethods are the Host's methods a worker may call, by the name its
// call frames give.
var hostMethods = map[string]hostMethod{
	"pinpad.read_card": serve(func(h Host) PinPad { return h.PinPad }, PinPad.ReadCard),
	"pinpad.get_pin":   serve(func(h Host) PinPad { return h.PinPad }, PinPad.GetPIN),
	"pinpad.display":   serve(func(h Host) PinPad { return h.PinPad }, noReply(PinPad.Display)),
	"scanner.read_code": serve(func(h Host) Scanner { return h.Scanner }, func(s Scanner, ctx context.Context, _ struct{}) (CodeView, error) {
		return s.ReadCode(ctx)
	}),
	"txn.execute": serve(func(h Host) Txn { return h.Txn }, Txn.Execute),
	"txn.record": serve(func(h Host) Txn { return h.Txn }, func(t Txn, ctx context.Context, _ struct{}) (TxnView, error) {
		return t.Record(ctx)
	}),
	"printer.print": serve(func(h Host) Printer { return h.Printer }, noReply(Printer.Print)),
	"terminal.info": serve(func(h Host) Terminal { return h.Terminal }, func(t Terminal, ctx context.Context, _ struct{}) (TerminalView, error) {
		return t.Info(ctx)
	}),
	"terminal.login": serve(func(h Host) Access { return h.Access }, func(a Access, ctx context.Context, _ struct{}) (OperatorView, error) {
		return a.Login(ctx)
	}),
	"terminal.lock": serve(func(h Host) Access { return h.Access }, func(a Access, ctx context.Context, _ struct{}) (struct{}, error) {
		return struct{}{}, a.Lock(ctx)
	}),
	"terminal.unlock_protection": serve(func(h Host) Access { return h.Access }, func(a Access, ctx context.Context, _ struct{}) (TerminalView, error) {
		return a.UnlockProtection(ctx)
	}),
	"terminal.clear_cache": serve(func(h Host) Access { return h.Access }, Access.ClearCache),
	"journal.find":         serve(func(h Host) Journal { return h.Journal }, Journal.Find),
	"journal.summary":      serve(func(h Host) Journal { return h.Journal }, Journal.Summary),
	"events.wait":          serve(func(h Host) Events { return h.Events }, Events.Wait),
	"ui.show":              serve(func(h Host) UI { return h.UI }, noReply(UI.Show)),
	"ui.confirm":           serve(func(h Host) UI { return h.UI }, UI.Confirm),
	"ui.choose":            serve(func(h Host) UI { return h.UI }, UI.Choose),
	"ui.enter_amount":      serve(func(h Host) UI { return h.UI }, UI.EnterAmount),
	"ui.progress":          serve(func(h Host) UI { return h.UI }, noReply(UI.Progress)),
}

// serve decodes a call's arguments and calls fn on the module of(host);
// a module the host lacks fails the call as unavailable.
func serve[M any, A, R any](of func(Host) M, fn func(M, context.Context, A) (R, error)) hostMethod {
	return func(ctx context.Context, h Host, args, b []byte) ([]byte, error) {
		m := of(h)
		if any(m) == nil {
			return nil, &Error{Code: CodeUnavailable, Message: "the module is not available to this flow here"}
		}
		var a A
		if err := wireDecode(args, &a); err != nil {
			return nil, &Error{Code: CodeFlowError, Message: "the flow's arguments do not decode: " + err.Error()}
		}
		r, err := fn(m, ctx, a)
		if err != nil {
			return nil, err
		}
		return wireAppend(b, r)
	}
}

// noReply adapts a method that answers only an error.
func noReply[M any, A any](fn func(M, context.Context, A) error) func(M, context.Context, A) (struct{}, error) {
	return func(m M, ctx context.Context, a A) (struct{}, error) { return struct{}{}, fn(m, ctx, a) }
}
