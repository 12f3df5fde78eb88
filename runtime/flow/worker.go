package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// ServeWorker is a flow worker's main loop (`posrt flow worker`): it reads
// the flows from the runtime's init frame, compiles them, and runs each
// flow the runtime asks for against the runtime's HostAPI, reached through
// call frames. It returns when the runtime closes the pipe. A worker whose
// Go heap grows past the init frame's memory limit says so and exits: a
// flow cannot take more, and the runtime starts another worker.
func ServeWorker(r io.Reader, w io.Writer, logf func(string, ...any)) error {
	if logf == nil {
		logf = func(string, ...any) {}
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
		// A worker's live heap is a few MiB: at the default GOGC the
		// collector would run every few flows. The limit bounds it anyway.
		debug.SetGCPercent(400)
		watch = &watchdog{c: c, limit: init.MemoryLimit}
	}
	e, err := NewFromSources(Options{Timeout: time.Duration(init.TimeoutMS) * time.Millisecond, Logf: logf}, init.Sources)
	if err != nil {
		_ = c.write(frame{Type: frameReady, Err: AsError(err)})
		return err
	}
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
		stop := watch.start()
		out, err := e.Run(context.Background(), &remoteHost{c: c}, f.Flow, f.Input)
		stop()
		res := frame{Type: frameResult, Output: out}
		if err != nil {
			res.Err = AsError(err)
		}
		if err := c.write(res); err != nil {
			return err
		}
	}
}

// memoryPoll is how often a worker checks its heap.
const memoryPoll = 2 * time.Millisecond

// watchdog ends the worker once its heap holds more than limit bytes
// while a flow runs (an idle worker is not woken).
type watchdog struct {
	c     *conn
	limit int64
}

// start watches until the returned stop is called; a nil watchdog
// watches nothing.
func (d *watchdog) start() (stop func()) {
	if d == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(memoryPoll)
		defer t.Stop()
		for {
			metrics.Read(s)
			if used := s[0].Value.Uint64(); used > uint64(d.limit) {
				_ = d.c.write(frame{Type: frameFatal, Err: &Error{Code: CodeFlowError,
					Message: fmt.Sprintf("it used more than the %d MiB of memory a flow may", d.limit>>20)}})
				os.Exit(3)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// remoteHost is the runtime's HostAPI as a worker reaches it.
type remoteHost struct {
	c    *conn
	next int64
}

var _ HostAPI = (*remoteHost)(nil)

// call sends one call and waits for its reply: during a run the runtime
// sends nothing but replies, in order.
func callHost[R any](h *remoteHost, method string, args any) (R, error) {
	var zero R
	a, err := json.Marshal(args)
	if err != nil {
		return zero, fmt.Errorf("%s: encoding the arguments: %w", method, err)
	}
	h.next++
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
	var r R
	if len(f.Payload) > 0 {
		if err := json.Unmarshal(f.Payload, &r); err != nil {
			return zero, fmt.Errorf("%s: decoding the reply: %w", method, err)
		}
	}
	return r, nil
}

func (h *remoteHost) ReadCard(_ context.Context, a ReadCardArgs) (CardView, error) {
	return callHost[CardView](h, "read_card", a)
}

func (h *remoteHost) GetPIN(_ context.Context, a GetPINArgs) (PINView, error) {
	return callHost[PINView](h, "get_pin", a)
}

func (h *remoteHost) ReadCode(context.Context) (CodeView, error) {
	return callHost[CodeView](h, "read_code", nil)
}

func (h *remoteHost) Display(_ context.Context, lines []string) error {
	_, err := callHost[struct{}](h, "display", lines)
	return err
}

func (h *remoteHost) Execute(_ context.Context, a ExecuteArgs) (TxnView, error) {
	return callHost[TxnView](h, "execute", a)
}

func (h *remoteHost) Print(_ context.Context, a PrintArgs) error {
	_, err := callHost[struct{}](h, "print", a)
	return err
}

func (h *remoteHost) Terminal(context.Context) (TerminalView, error) {
	return callHost[TerminalView](h, "terminal", nil)
}

func (h *remoteHost) Record(context.Context) (TxnView, error) {
	return callHost[TxnView](h, "record", nil)
}

// hostMethods serve a worker's calls on the runtime's side: each decodes
// the arguments, calls host and returns the reply to encode.
var hostMethods = map[string]func(ctx context.Context, host HostAPI, args json.RawMessage) (any, error){
	"read_card": serveWith(HostAPI.ReadCard),
	"get_pin":   serveWith(HostAPI.GetPIN),
	"read_code": serveNoArgs(HostAPI.ReadCode),
	"display": serveWith(func(h HostAPI, ctx context.Context, lines []string) (struct{}, error) {
		return struct{}{}, h.Display(ctx, lines)
	}),
	"execute": serveWith(HostAPI.Execute),
	"print": serveWith(func(h HostAPI, ctx context.Context, a PrintArgs) (struct{}, error) {
		return struct{}{}, h.Print(ctx, a)
	}),
	"terminal": serveNoArgs(HostAPI.Terminal),
	"record":   serveNoArgs(HostAPI.Record),
}

func serveWith[A, R any](fn func(HostAPI, context.Context, A) (R, error)) func(context.Context, HostAPI, json.RawMessage) (any, error) {
	return func(ctx context.Context, h HostAPI, raw json.RawMessage) (any, error) {
		var a A
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, &Error{Code: CodeFlowError, Message: "the flow's arguments do not decode: " + err.Error()}
		}
		return fn(h, ctx, a)
	}
}

func serveNoArgs[R any](fn func(HostAPI, context.Context) (R, error)) func(context.Context, HostAPI, json.RawMessage) (any, error) {
	return func(ctx context.Context, h HostAPI, _ json.RawMessage) (any, error) { return fn(h, ctx) }
}
