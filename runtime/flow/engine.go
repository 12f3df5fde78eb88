package flow

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Options configure an Engine.
type Options struct {
	// Timeout bounds one run of a flow (DefaultTimeout when zero).
	Timeout time.Duration
	// Logf receives the flows' log() lines and the details of flow errors.
	Logf func(format string, args ...any)
}

// Engine holds the compiled flows.
type Engine struct {
	flows map[string]*lua.FunctionProto
	opts  Options
}

// libraries are the flow files that hold shared functions rather than a
// flow: required by their name, never run as a flow.
var libraries = map[string]bool{"receipts": true}

// ErrNoFlow is returned by Run for a flow the engine does not have.
var ErrNoFlow = errors.New("no such flow")

// New compiles every *.lua file at the top of each of layers; a flow in a
// later layer replaces the one of the same name in an earlier one, so a
// merchant's directory laid over the embedded defaults overrides them
// flow by flow. A flow that does not compile is an error naming its file.
func New(opts Options, layers ...fs.FS) (*Engine, error) {
	sources, err := ReadLayers(layers...)
	if err != nil {
		return nil, err
	}
	return NewFromSources(opts, sources)
}

// ReadLayers reads the *.lua files at the top of each of layers into a
// map from flow name to source, a later layer's file replacing an earlier
// one's of the same name. Scenario files (*_test.lua, posrt flow test's)
// are not flows and are left out.
func ReadLayers(layers ...fs.FS) (map[string]string, error) {
	sources := map[string]string{}
	for _, layer := range layers {
		files, err := fs.Glob(layer, "*.lua")
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.lua") {
				continue
			}
			src, err := fs.ReadFile(layer, f)
			if err != nil {
				return nil, fmt.Errorf("reading flow %s: %w", f, err)
			}
			sources[strings.TrimSuffix(path.Base(f), ".lua")] = string(src)
		}
	}
	return sources, nil
}

// NewFromSources compiles the flows of sources (flow name to source).
func NewFromSources(opts Options, sources map[string]string) (*Engine, error) {
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	e := &Engine{flows: map[string]*lua.FunctionProto{}, opts: opts}
	for name, src := range sources {
		proto, err := Compile(name+".lua", src)
		if err != nil {
			return nil, err
		}
		e.flows[name] = proto
	}
	return e, nil
}

// DefaultTimeout bounds one run of a flow unless Options say otherwise: a
// whole card transaction may take 120s, then the receipts print.
const DefaultTimeout = 150 * time.Second

// Runner runs flows: an Engine in this process, or a Pool of worker
// processes.
type Runner interface {
	Run(ctx context.Context, host Host, name string, input map[string]any) (map[string]any, error)
	Flows() []string
}

var _ Runner = (*Engine)(nil)

// Compile parses and compiles one flow's source.
func Compile(name, src string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(strings.NewReader(src), name)
	if err != nil {
		return nil, fmt.Errorf("flow %s does not parse: %w", name, err)
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, fmt.Errorf("flow %s does not compile: %w", name, err)
	}
	return proto, nil
}

// Flows lists the flows the engine has (not the files of shared
// functions they require).
func (e *Engine) Flows() []string {
	out := make([]string, 0, len(e.flows))
	for n := range e.flows {
		if !libraries[n] {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Run runs flow name against host with input as its context table and
// returns the table the flow returns. An expected failure the flow returns
// as nil, err comes back as an *Error; a flow that raises a Lua error or
// overruns its deadline comes back as an *Error with code "flow_error"
// whose message carries no Lua stack trace (the details go to Logf).
func (e *Engine) Run(ctx context.Context, host Host, name string, input map[string]any) (map[string]any, error) {
	return e.runIn(ctx, newSandbox(), host, name, input)
}

// runIn is Run in the sandbox L, fresh from newSandbox and used for this
// run only (a worker builds the next run's while it is idle); it closes L.
func (e *Engine) runIn(ctx context.Context, L *lua.LState, host Host, name string, input map[string]any) (map[string]any, error) {
	defer L.Close()
	proto, ok := e.flows[name]
	if !ok || libraries[name] {
		return nil, fmt.Errorf("%w: %q", ErrNoFlow, name)
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	L.SetContext(ctx)
	r := &run{host: host, logf: e.opts.Logf, flow: name, lib: func(n string) *lua.FunctionProto {
		if n == name || !libraries[n] {
			return nil
		}
		return e.flows[n]
	}}
	r.install(L)

	if err := L.CallByParam(lua.P{Fn: L.NewFunctionFromProto(proto), NRet: 1, Protect: true}); err != nil {
		return nil, e.flowError(name, err)
	}
	fn, ok := L.Get(-1).(*lua.LFunction)
	L.Pop(1)
	if !ok {
		return nil, e.flowError(name, errors.New("the flow file must return a function"))
	}
	ctxTable, err := toLua(L, input)
	if err != nil {
		return nil, fmt.Errorf("flow %s input: %w", name, err)
	}
	if err := L.CallByParam(lua.P{Fn: fn, NRet: 2, Protect: true}, ctxTable); err != nil {
		return nil, e.flowError(name, err)
	}
	ret, errv := L.Get(-2), L.Get(-1)
	L.Pop(2)
	if ret == lua.LNil && errv != lua.LNil {
		return nil, errorFromLua(errv)
	}
	out, ok := fromLua(ret).(map[string]any)
	if !ok {
		return nil, e.flowError(name, fmt.Errorf("the flow returned %s, not a table", ret.Type()))
	}
	return out, nil
}

func (e *Engine) flowError(name string, err error) error {
	e.opts.Logf("flow %s failed: %v", name, err)
	msg := err.Error()
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) {
		if apiErr.Type == lua.ApiErrorRun && apiErr.Object != nil {
			msg = apiErr.Object.String()
		}
		if apiErr.Cause != nil && (errors.Is(apiErr.Cause, context.DeadlineExceeded) || errors.Is(apiErr.Cause, context.Canceled)) {
			msg = "it ran out of time"
		}
	}
	if strings.Contains(msg, "context deadline exceeded") || strings.Contains(msg, "context canceled") {
		msg = "it ran out of time"
	}
	if i := strings.Index(msg, "\nstack traceback:"); i >= 0 {
		msg = msg[:i]
	}
	return &Error{Code: CodeFlowError, Message: fmt.Sprintf("the %s flow failed: %s", name, msg)}
}

func errorFromLua(v lua.LValue) error {
	if t, ok := v.(*lua.LTable); ok {
		code := lua.LVAsString(t.RawGetString("code"))
		if code == "" {
			code = "error"
		}
		return &Error{Code: code, Message: lua.LVAsString(t.RawGetString("message"))}
	}
	return &Error{Code: "error", Message: lua.LVAsString(v)}
}
