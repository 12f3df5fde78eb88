package scenario

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/posrt/posrt/runtime/boot"
	"github.com/posrt/posrt/runtime/config"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/operator"
	"github.com/posrt/posrt/runtime/terminal"
	"github.com/posrt/posrt/runtime/txn"
)

// Options say how to run scenario files.
type Options struct {
	// FlowsDir is the merchant's flows directory laid over the embedded
	// flows, as flows.dir is for posrt run; empty: the embedded flows.
	FlowsDir string
	// Self is the posrt executable that serves the built-in plugins
	// ("plugin serve") and the flow workers ("flow worker").
	Self string
	// Logger receives the terminal's log (none when nil).
	Logger hclog.Logger
	// Timeout bounds one scenario (DefaultTimeout when zero).
	Timeout time.Duration
}

// DefaultTimeout bounds one scenario's operation unless Options say
// otherwise: the fakes answer at once, so this is the flow's own time.
const DefaultTimeout = 60 * time.Second

// Outcome is how one scenario went.
type Outcome struct {
	Scenario Scenario
	// Failures are the expectations the answer did not meet, such as
	// "field result = declined, want approved".
	Failures []string
	// Answer is the operation's answer (zero when it was refused).
	Answer terminal.Result
}

// OK reports whether the scenario met every expectation.
func (o Outcome) OK() bool { return len(o.Failures) == 0 }

// String is the scenario's line of a report: "ok NAME" or
// "FAIL NAME: what failed; what else failed".
func (o Outcome) String() string {
	if o.OK() {
		return "ok " + o.Scenario.Name
	}
	return "FAIL " + o.Scenario.Name + ": " + strings.Join(o.Failures, "; ")
}

// Source is a scenario file's text and how messages name it.
type Source struct {
	Name string
	Src  []byte
}

// Sources returns the scenario files of dir (its *_test.lua, by name), or
// of defaults (the embedded flows, named flows/NAME) when dir is empty.
func Sources(defaults fs.FS, dir string) ([]Source, error) {
	fsys := defaults
	if dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("flows directory %q is not a directory", dir)
		}
		fsys = os.DirFS(dir)
	}
	names, err := fs.Glob(fsys, "*_test.lua")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Source
	for _, n := range names {
		src, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("reading scenario file %s: %w", n, err)
		}
		name := path.Join("flows", n) // the embedded file's place in posrt's source
		if dir != "" {
			name = filepath.Join(dir, n)
		}
		out = append(out, Source{Name: name, Src: src})
	}
	return out, nil
}

// RunFile runs f's scenarios in order on one fresh terminal: the embedded
// profile of fakes (config.LoadFakes: fake devices, the built-in fake hosts as real
// plugin processes, flows in worker processes) with o.FlowsDir over the
// embedded flows, in a temporary data directory removed afterwards. An
// error means the terminal did not start (a merchant's flow that does
// not compile, say); each scenario's failures are in its Outcome.
func RunFile(ctx context.Context, o Options, f File) ([]Outcome, error) {
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	cfg, err := config.LoadFakes()
	if err != nil {
		return nil, fmt.Errorf("loading the profile of fakes: %w", err)
	}
	cfg.Flows.Dir = o.FlowsDir
	if err := configurePlugins(&cfg, f); err != nil {
		return nil, err
	}
	dataDir, err := os.MkdirTemp("", "posrt-flow-test-")
	if err != nil {
		return nil, fmt.Errorf("creating the terminal's data directory: %w", err)
	}
	defer os.RemoveAll(dataDir)
	if _, err := boot.MakeSocketDir(dataDir); err != nil {
		return nil, err
	}
	rt, err := boot.Start(ctx, boot.Options{Config: cfg, DataDir: dataDir, Self: o.Self, Logger: o.Logger})
	if err != nil {
		return nil, fmt.Errorf("starting the terminal: %w", err)
	}
	defer rt.Close()
	if err := rt.Terminal.Recover(ctx); err != nil {
		o.Logger.Warn("resolving at start", "error", err)
	}
	r := &runner{t: rt.Terminal, receipts: filepath.Join(dataDir, "receipts.txt"), done: map[string]terminal.Result{}}
	out := make([]Outcome, 0, len(f.Scenarios))
	for _, s := range f.Scenarios {
		sctx, cancel := context.WithTimeout(ctx, o.Timeout)
		oc := r.run(sctx, s)
		cancel()
		out = append(out, oc)
	}
	return out, nil
}

type runner struct {
	t        *terminal.Terminal
	receipts string // the fake printer's output file
	done     map[string]terminal.Result
}

func (r *runner) run(ctx context.Context, s Scenario) Outcome {
	oc := Outcome{Scenario: s}
	fail := func(format string, args ...any) { oc.Failures = append(oc.Failures, fmt.Sprintf(format, args...)) }
	ref := txn.OriginalRef{Batch: s.Op.OrigBatch, Trace: s.Op.OrigTrace, RRN: s.Op.OrigRRN}
	if s.Op.Orig != "" {
		orig := r.done[s.Op.Orig]
		if orig.Trace == "" {
			fail("op.orig: scenario %q has no transaction to name (it was refused)", s.Op.Orig)
			return oc
		}
		ref = txn.OriginalRef{Batch: orig.Batch, Trace: orig.Trace}
	}
	before := fileSize(r.receipts)
	ui := scenarioUI(s.UI)
	var res terminal.Result
	var got map[string]any
	var err error
	switch s.Op.Kind {
	case KindReprint:
		res, err = r.t.Reprint(ctx, ref)
	case KindSettle:
		var st terminal.SettleResult
		st, err = r.t.Settle(ctx, "00", ui)
		got = answer(st)
	case KindSignIn:
		if err = r.t.SignInWith(ctx, ui); err == nil {
			st, _ := r.t.Status()
			got = map[string]any{"result": "approved", "batch": st.Batch}
		}
	case KindProtect:
		if err = r.t.Protect(ctx, s.Op.Reason); err == nil {
			got = map[string]any{"result": "protected", "reason": s.Op.Reason}
		}
	case KindQuery:
		if got, err = r.t.ShowTransactions(ctx, ui, flow.JournalQuery{Batch: ref.Batch, Trace: ref.Trace, RRN: ref.RRN}); err == nil {
			got["result"] = "ok"
		}
	case KindSummary:
		if got, err = r.t.ShowSummary(ctx, ui, s.Op.Period, "", s.Op.Print); err == nil {
			got["result"] = "ok"
		}
	case KindLogin, KindLock, KindUnprotect, KindClear:
		name := map[Kind]string{KindLogin: terminal.FlowLogin, KindLock: terminal.FlowLock, KindUnprotect: terminal.FlowProtectionUnlock, KindClear: terminal.FlowClearCache}[s.Op.Kind]
		got, err = r.t.RunAccess(ctx, name, ui, credentials{s.Op})
		if err == nil {
			got["result"] = "ok"
		}
	default:
		op := txn.Operation{Kind: journal.Kind(s.Op.Kind), Medium: s.Op.Medium, Amount: s.Op.Amount, Original: ref, RequestID: s.Op.RequestID}
		if op.Kind == journal.KindCash && op.Medium == "" {
			op.Medium = journal.MediumCash
		}
		res, err = r.t.Execute(ctx, terminal.Request{Op: op, PaymentCode: s.Op.AuthCode, UI: ui})
	}
	if err == nil {
		r.done[s.Name] = res
	}
	oc.Answer = res
	switch {
	case err != nil && s.ExpectError == "":
		fe := flow.AsError(err)
		fail("refused: %s: %s", fe.Code, fe.Message)
		return oc
	case err != nil && flow.AsError(err).Code != s.ExpectError:
		fe := flow.AsError(err)
		fail("error = %s, want %s (%s)", fe.Code, s.ExpectError, fe.Message)
		return oc
	case err != nil:
		return oc
	case s.ExpectError != "":
		fail("error = none, want %s: the operation ran: result = %s, code = %s", s.ExpectError, res.Result, show(res.Code))
		return oc
	}
	if got == nil {
		got = answer(res)
	}
	for _, name := range sortedKeys(s.Expect) {
		if want := s.Expect[name]; got[name] != want {
			fail("field %s = %s, want %s", name, show(got[name]), show(want))
		}
	}
	for _, name := range sortedKeys(s.Contains) {
		var text string
		switch name {
		case FieldPrinted:
			text = readFrom(r.receipts, before)
		case FieldShown:
			text = shownText(ui)
		default:
			text, _ = got[name].(string)
		}
		for _, want := range s.Contains[name] {
			if !strings.Contains(text, want) {
				fail("%s does not contain %q: %s", name, want, excerpt(text))
			}
		}
	}
	return oc
}

// answer is an operation's or a settlement's answer by its fields' JSON
// names (every text, number and yes-or-no field, set or not).
func answer(res any) map[string]any {
	out := map[string]any{}
	v := reflect.ValueOf(res)
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			out[name] = f.String()
		case reflect.Int64, reflect.Int:
			out[name] = f.Int()
		case reflect.Bool:
			out[name] = f.Bool()
		}
	}
	return out
}

func show(v any) string {
	switch v := v.(type) {
	case string:
		if v == "" || strings.ContainsAny(v, " \t\n") {
			return strconv.Quote(v)
		}
		return v
	case nil:
		return "(none)"
	}
	return fmt.Sprint(v)
}

func excerpt(s string) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "it is empty"
	case len(s) > 300:
		return "it begins " + strconv.Quote(s[:300])
	}
	return "it is " + strconv.Quote(s)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func fileSize(name string) int64 {
	st, err := os.Stat(name)
	if err != nil {
		return 0
	}
	return st.Size()
}

// readFrom returns what name holds past offset (what the fake printer
// printed since).
func readFrom(name string, offset int64) string {
	f, err := os.Open(name)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// CodeUIAnswerRequired is the error code of a question the scenario's ui
// does not answer, as the ECR API's is.
const CodeUIAnswerRequired = flow.CodeUIAnswerRequired

// scenarioUI is posrt.ui answered from a scenario's ui table by the
// question's name (flow.Answers).
func scenarioUI(answers map[string]any) *flow.Answers {
	return flow.NewAnswers(answers, func(p flow.Prompt, example string) string {
		return fmt.Sprintf("the flow asks %q (%s): answer it in the scenario, ui = { %s = %s }", p.Text, p.Name, p.Name, example)
	})
}

// shownText is what the flow showed, for contains.shown.
func shownText(ui *flow.Answers) string {
	var b strings.Builder
	for _, m := range ui.Shown() {
		b.WriteString(m.Title + "\n")
		for _, l := range m.Lines {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// configurePlugins applies the file's plugin settings to the profile's
// plugins; a plugin the profile does not have is an error naming them.
func configurePlugins(cfg *config.Config, f File) error {
	for name, keys := range f.Plugins {
		found := false
		for i, pl := range cfg.Plugins {
			if pl.Name != name {
				continue
			}
			found = true
			if cfg.Plugins[i].Config == nil {
				cfg.Plugins[i].Config = map[string]string{}
			}
			for k, v := range keys {
				cfg.Plugins[i].Config[k] = v
			}
		}
		if !found {
			var names []string
			for _, pl := range cfg.Plugins {
				names = append(names, pl.Name)
			}
			return fmt.Errorf("%s: plugins.%s: the default profile has no plugin %q (it has %s)", f.Name, name, name, strings.Join(names, ", "))
		}
	}
	return nil
}

// credentials are a scenario's passwords, as a front end hands them over.
type credentials struct{ op Op }

func (c credentials) Operator(context.Context) (operator.Number, string, error) {
	return operator.Number(c.op.Operator), c.op.Password, nil
}

func (c credentials) Supervisor(context.Context) (string, error) { return c.op.SupervisorPassword, nil }
