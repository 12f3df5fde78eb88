package flow

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// PoolOptions configure a Pool.
type PoolOptions struct {
	// Command returns the command that starts one worker process, which
	// must run ServeWorker on file descriptors 3 (from the runtime) and 4
	// (to it): `posrt flow worker`.
	Command func() *exec.Cmd
	// Size is how many workers are kept started and ready (default 1; a
	// terminal runs one operation at a time): a run takes a ready one, so
	// a sale waits for a process start only right after a worker was
	// killed.
	Size int
	// Timeout bounds one run (DefaultTimeout when zero). A worker that has
	// not answered Grace after it is killed.
	Timeout time.Duration
	// MemoryLimit is each worker's Go heap limit in bytes (default
	// DefaultWorkerMemory); a worker past it ends, and its run fails.
	MemoryLimit int64
	// Logf receives the workers' own lines (a flow's log()) and what
	// happens to them.
	Logf func(format string, args ...any)
}

// DefaultWorkerMemory is a worker's memory limit unless configured.
const DefaultWorkerMemory = 64 << 20

// Grace is how long after a run's deadline its worker may still answer
// before it is killed: a flow that overruns ends within its deadline plus
// Grace.
const Grace = 500 * time.Millisecond

// Pool runs flows in worker processes: a flow cannot reach the runtime's
// memory, journal or devices except through the Host calls it sends,
// and a flow that loops, recurses, allocates without bound or crashes ends
// its worker, not posrt. A run fails with a flow_error for the cashier; the
// operation it was bound to stays the runtime's to finish (a sale already
// executed stands and is resolved as any other). A killed worker is
// replaced in the background.
type Pool struct {
	opts    PoolOptions
	sources map[string]string
	flows   []string

	idle   chan *worker
	mu     sync.Mutex
	alive  int
	closed bool
	all    map[*worker]bool
}

var _ Runner = (*Pool)(nil)

// NewPool compiles sources here first (so that a flow that does not
// compile fails at boot, naming its file), then starts opts.Size workers
// and waits until they are ready.
func NewPool(opts PoolOptions, sources map[string]string) (*Pool, error) {
	if opts.Command == nil {
		return nil, errors.New("flow pool: no worker command")
	}
	if opts.Size <= 0 {
		opts.Size = 1
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MemoryLimit == 0 {
		opts.MemoryLimit = DefaultWorkerMemory
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	e, err := NewFromSources(Options{}, sources)
	if err != nil {
		return nil, err
	}
	p := &Pool{opts: opts, sources: sources, flows: e.Flows(), idle: make(chan *worker, opts.Size), all: map[*worker]bool{}}
	errs := make(chan error, opts.Size)
	for range opts.Size {
		go func() { errs <- p.refill() }()
	}
	for range opts.Size {
		if err := <-errs; err != nil {
			p.Close()
			return nil, fmt.Errorf("starting the flow workers: %w", err)
		}
	}
	return p, nil
}

// Flows lists the flows (not the libraries they require).
func (p *Pool) Flows() []string { return p.flows }

// Run runs flow name in a worker against host, as Engine.Run does.
func (p *Pool) Run(ctx context.Context, host Host, name string, input map[string]any) (map[string]any, error) {
	if _, ok := p.sources[name]; !ok || libraries[name] {
		return nil, fmt.Errorf("%w: %q", ErrNoFlow, name)
	}
	for attempt := 0; ; attempt++ {
		w, err := p.get(ctx)
		if err != nil {
			return nil, &Error{Code: CodeFlowError, Message: fmt.Sprintf("the %s flow could not start: %v", name, err)}
		}
		out, err, st := p.run(ctx, w, host, name, input)
		if st == runOK {
			p.put(w)
			return out, err
		}
		p.discard(w)
		// A worker found dead before it asked anything of the host (it
		// died while idle) did nothing: the run goes to another, once.
		if st != runGoneUntouched || attempt > 0 {
			return out, err
		}
	}
}

// How a run left its worker.
type runState int

const (
	runOK            runState = iota // answered; the worker is reusable
	runBroken                        // killed, timed out, or gone mid-run
	runGoneUntouched                 // gone before the run asked the host anything
)

func (p *Pool) run(ctx context.Context, w *worker, host Host, name string, input map[string]any) (map[string]any, error, runState) {
	failed := func(format string, a ...any) error {
		return &Error{Code: CodeFlowError, Message: fmt.Sprintf("the %s flow failed: ", name) + fmt.Sprintf(format, a...)}
	}
	runCtx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	if err := w.c.write(frame{Type: frameRun, Flow: name, Input: input, Caps: capsOf(host)}); err != nil {
		return nil, failed("its worker is gone (%v)", err), runGoneUntouched
	}
	// Frames are read here, with blocking reads, not by a goroutine of
	// their own: a sale's flow makes a handful of calls, and each handoff
	// or poller wake-up would cost it. A run past its hard deadline, or
	// one its caller cancels, has its worker killed, which ends the read.
	var why atomic.Value // "time" or "stopped": why the worker was killed
	hard := time.AfterFunc(p.opts.Timeout+Grace, func() { why.CompareAndSwap(nil, "time"); w.kill() })
	defer hard.Stop()
	stop := context.AfterFunc(ctx, func() { why.CompareAndSwap(nil, "stopped"); w.kill() })
	defer stop()
	calls := 0
	for {
		f, err := w.c.read()
		if f.Type == frameFatal {
			w.fatal = f.Err
			continue // its pipe closes next
		}
		switch {
		case err != nil && why.Load() == "time":
			return nil, failed("it ran out of time"), runBroken
		case err != nil && why.Load() == "stopped":
			return nil, failed("it was stopped (%v)", ctx.Err()), runBroken
		case err != nil && w.fatal != nil:
			return nil, failed("%s", w.fatal.Message), runBroken
		case err != nil && calls == 0:
			return nil, failed("its worker ended (%s)", w.exitStatus()), runGoneUntouched
		case err != nil:
			return nil, failed("its worker ended (%s)", w.exitStatus()), runBroken
		}
		switch f.Type {
		case frameCall:
			calls++
			serve, ok := hostMethods[f.Method]
			var reply frame
			if !ok {
				reply = frame{Type: frameReply, ID: f.ID, Err: &Error{Code: CodeFlowError, Message: "no host method " + f.Method}}
			} else {
				reply = w.serve(runCtx, host, serve, f)
			}
			if f.Method == "txn.execute" && reply.Err == nil && host.Terminal != nil {
				// The operation moved the terminal's counters; the flow
				// asks for them next to print its receipt.
				if v, err := host.Terminal.Info(runCtx); err == nil {
					reply.Terminal = &v
				}
			}
			if err := w.c.write(reply); err != nil {
				return nil, failed("its worker is gone (%v)", err), runBroken
			}
		case frameResult:
			if f.Err != nil {
				return nil, f.Err, runOK
			}
			out := f.Output
			if out == nil {
				out = map[string]any{}
			}
			return out, nil, runOK
		default:
			return nil, failed("its worker sent %q", f.Type), runBroken
		}
	}
}

// serve serves one call of w's run, the reply's payload in w's buffer
// (written before the next call is read).
func (w *worker) serve(ctx context.Context, host Host, serve hostMethod, f frame) frame {
	b, err := serve(ctx, host, f.Payload, w.reply[:0])
	if err != nil {
		return frame{Type: frameReply, ID: f.ID, Err: AsError(err)}
	}
	if cap(b) <= 64<<10 {
		w.reply = b
	}
	return frame{Type: frameReply, ID: f.ID, Payload: b}
}

// get takes a ready worker, starting one if fewer than Size are alive.
func (p *Pool) get(ctx context.Context) (*worker, error) {
	for {
		select {
		case w := <-p.idle:
			if p.live(w) {
				return w, nil
			}
			continue
		default:
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, errors.New("the flow pool is closed")
		}
		if p.alive < p.opts.Size {
			p.alive++
			p.mu.Unlock()
			w, err := p.start()
			if err != nil {
				p.mu.Lock()
				p.alive--
				p.mu.Unlock()
				return nil, err
			}
			return w, nil
		}
		p.mu.Unlock()
		select {
		case w := <-p.idle:
			if p.live(w) {
				return w, nil
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// live reports whether an idle worker still runs, discarding it if not.
func (p *Pool) live(w *worker) bool {
	if w.done() {
		p.discard(w)
		return false
	}
	return true
}

func (p *Pool) put(w *worker) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		p.discard(w)
		return
	}
	p.idle <- w
}

// discard kills w and starts its replacement in the background.
func (p *Pool) discard(w *worker) {
	w.kill()
	p.mu.Lock()
	delete(p.all, w)
	p.alive--
	closed := p.closed
	p.mu.Unlock()
	if !closed {
		go func() {
			if err := p.refill(); err != nil {
				p.opts.Logf("flow pool: starting a worker: %v", err)
			}
		}()
	}
}

// refill starts a worker and makes it ready, if fewer than Size are alive.
func (p *Pool) refill() error {
	p.mu.Lock()
	if p.closed || p.alive >= p.opts.Size {
		p.mu.Unlock()
		return nil
	}
	p.alive++
	p.mu.Unlock()
	w, err := p.start()
	if err != nil {
		p.mu.Lock()
		p.alive--
		p.mu.Unlock()
		return err
	}
	p.put(w)
	return nil
}

// Close stops every worker.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	all := make([]*worker, 0, len(p.all))
	for w := range p.all {
		all = append(all, w)
	}
	p.mu.Unlock()
	for _, w := range all {
		w.stop()
	}
	return nil
}

// Workers lists the process ids of the workers alive, for status and
// tests.
func (p *Pool) Workers() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []int
	for w := range p.all {
		out = append(out, w.cmd.Process.Pid)
	}
	sort.Ints(out)
	return out
}

// worker is one worker process.
type worker struct {
	cmd     *exec.Cmd
	c       *conn
	in      *os.File      // the pipe the worker reads: closed, it ends
	out     *os.File      // the pipe the worker writes
	exited  chan struct{} // closed when the process has exited
	fatal   *Error        // the worker's last word, if it gave one
	reply   []byte        // the payload of the reply being written
	waitErr error
}

// startTimeout bounds a worker's start, up to its ready frame.
const startTimeout = 10 * time.Second

func (p *Pool) start() (*worker, error) {
	cmd := p.opts.Command()
	toWorker, workerIn, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	workerOut, fromWorker, err := os.Pipe()
	if err != nil {
		toWorker.Close()
		workerIn.Close()
		return nil, err
	}
	// fd 3: what the runtime writes; fd 4: what the worker writes.
	cmd.ExtraFiles = []*os.File{toWorker, fromWorker}
	logs := &lineLogger{logf: p.opts.Logf}
	cmd.Stdout, cmd.Stderr = logs, logs
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	// Its own process group, as the plugins': a SIGTERM or Ctrl-C to
	// posrt's group reaches posrt alone, which finishes the operation in
	// flight, its flow included, before it stops the workers.
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		for _, f := range []*os.File{toWorker, workerIn, workerOut, fromWorker} {
			f.Close()
		}
		return nil, fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	toWorker.Close()
	fromWorker.Close()
	logs.mu.Lock()
	logs.pid = cmd.Process.Pid
	logs.mu.Unlock()
	// Blocking reads: one system call a frame, no poller (see run).
	workerOut.Fd()
	w := &worker{cmd: cmd, c: &conn{r: bufio.NewReader(workerOut), w: workerIn}, in: workerIn, out: workerOut, exited: make(chan struct{})}
	go func() {
		w.waitErr = cmd.Wait()
		workerIn.Close()
		workerOut.Close()
		close(w.exited)
	}()
	ready := make(chan error, 1)
	go func() {
		if err := w.c.write(frame{Type: frameInit, Sources: p.sources, TimeoutMS: p.opts.Timeout.Milliseconds(), MemoryLimit: p.opts.MemoryLimit}); err != nil {
			ready <- err
			return
		}
		f, err := w.c.read()
		switch {
		case err != nil:
			ready <- fmt.Errorf("the worker was not ready (%v; %s)", err, w.exitStatus())
		case f.Type != frameReady:
			ready <- fmt.Errorf("the worker sent %q before ready", f.Type)
		case f.Err != nil:
			ready <- f.Err
		default:
			ready <- nil
		}
	}()
	select {
	case err = <-ready:
	case <-time.After(startTimeout):
		err = fmt.Errorf("the worker was not ready within %s", startTimeout)
	}
	if err != nil {
		w.kill()
		return nil, err
	}
	p.mu.Lock()
	p.all[w] = true
	p.mu.Unlock()
	return w, nil
}

func (w *worker) done() bool {
	select {
	case <-w.exited:
		return true
	default:
		return false
	}
}

// stop ends an idle worker: its pipe closed, it returns; one that does
// not within Grace is killed.
func (w *worker) stop() {
	_ = w.in.Close()
	select {
	case <-w.exited:
	case <-time.After(Grace):
		w.kill()
	}
}

func (w *worker) kill() {
	if !w.done() {
		_ = w.cmd.Process.Kill()
	}
	select {
	case <-w.exited:
	case <-time.After(5 * time.Second):
	}
}

// exitStatus says how the worker ended, once it has.
func (w *worker) exitStatus() string {
	select {
	case <-w.exited:
	case <-time.After(Grace):
		return "its pipe closed"
	}
	if w.waitErr == nil {
		return "it exited"
	}
	return w.waitErr.Error()
}

// lineLogger passes a worker's output to Logf a line at a time.
type lineLogger struct {
	logf func(string, ...any)
	pid  int
	mu   sync.Mutex
	buf  []byte
}

func (l *lineLogger) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.logf("flow worker %d: %s", l.pid, l.buf[:i])
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) > 4096 {
		l.logf("flow worker %d: %s", l.pid, l.buf)
		l.buf = l.buf[:0]
	}
	return len(b), nil
}

var _ io.Writer = (*lineLogger)(nil)
