package scenario

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"

	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/money"
	"github.com/posrt/posrt/runtime/terminal"
)

// Kind is the operation a scenario asks the terminal for: the money
// operations of the journal, and a reprint.
type Kind string

// The kinds a scenario's op.kind may name.
const (
	KindSale    Kind = "sale"
	KindVoid    Kind = "void"
	KindRefund  Kind = "refund"
	KindCash    Kind = "cash"
	KindReprint Kind = "reprint" // the reprint flow: op.orig (or orig_trace), or the last receipt
	KindSettle  Kind = "settle"  // the settle flow: the batch's totals to its hosts, the slip
	KindSignIn  Kind = "signin"  // the signin flow
	// The access flows, with op.operator / op.password (login) and
	// op.supervisor_password (unprotect, clear); protect puts the terminal
	// into protection mode as its tamper switch does (op.reason).
	KindLogin     Kind = "login"
	KindLock      Kind = "lock"
	KindProtect   Kind = "protect"
	KindUnprotect Kind = "unprotect"
	KindClear     Kind = "clear"
	// The books: query lists the last transactions (op.orig_trace: the
	// one of that trace) through query.lua; summary totals op.period (day,
	// week or month) through summary.lua, printed with op.print.
	KindQuery   Kind = "query"
	KindSummary Kind = "summary"
)

var kinds = []Kind{KindSale, KindVoid, KindRefund, KindCash, KindReprint, KindSettle, KindSignIn, KindLogin, KindLock, KindProtect, KindUnprotect, KindClear, KindQuery, KindSummary}

// kindNames lists kinds for a message.
func kindNames() string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// Op is the operation of a scenario, as a cash register would send it.
type Op struct {
	Kind   Kind
	Medium journal.Medium // empty: card for a sale (a payment code tells its own)
	Amount money.Fen
	// AuthCode is the payment code the customer shows (a QR sale).
	AuthCode string
	// Orig names an earlier scenario of the same file whose operation is
	// this one's original (its batch and trace); OrigBatch, OrigTrace and
	// OrigRRN name one directly.
	Orig      string
	OrigBatch string
	OrigTrace string
	OrigRRN   string
	RequestID string
	// Operator and Password log in; SupervisorPassword is the
	// supervisor's, for an unprotect or a clear; Reason a protect's.
	Operator, Password, SupervisorPassword, Reason string
	// Period is a summary's (day, week, month); Print prints it.
	Period string
	Print  bool
}

// Scenario is one operation run on the file's terminal and what its
// answer must hold.
type Scenario struct {
	Name string
	// Line is where the scenario's table starts in its file (0: the file
	// builds its list in code, so lines are not known).
	Line int
	Op   Op
	// UI answers the flow's posrt.ui questions by their name: a boolean
	// (confirm), an option's number from 1 or its text (choose), an
	// integer amount in fen (enter_amount).
	UI map[string]any
	// Expect holds fields of the operation's answer (terminal.Result by
	// its JSON names) and the value each must have: a string, an int64 or
	// a bool.
	Expect map[string]any
	// Contains holds text fields of the answer, or "printed" (what the
	// printer printed during the scenario) or "shown" (what the flow
	// showed with posrt.ui.show), and texts each must contain.
	Contains map[string][]string
	// ExpectError is the code of a refusal: an operation refused before
	// anything was journaled (refund_exceeds_remaining, invalid_auth_code,
	// original_not_found...).
	ExpectError string
}

// File is a scenario file: its scenarios, run in order on one terminal.
type File struct {
	// Name is how the file is named in messages (its path, or its name
	// among the embedded flows).
	Name      string
	Scenarios []Scenario
	// Plugins sets configuration keys of the default profile's plugins
	// for the file's terminal, by plugin name (the fakes' behaviour: a
	// PIN pad that answers a wrong PIN, a printer out of paper...): the
	// file's `plugins = { pinpad = { pin = "wrong" } }` beside its list.
	Plugins map[string]map[string]string
}

// LoadTimeout bounds the run of a scenario file's Lua code.
const LoadTimeout = 5 * time.Second

// Contained are the pseudo-fields of Scenario.Contains besides the
// answer's text fields.
const (
	FieldPrinted = "printed"
	FieldShown   = "shown"
)

// answerFields are the fields of an operation's answer, and of a
// settlement's, by their JSON names, with their Go kinds (whole numbers
// as reflect.Int64).
var answerFields = map[Kind]map[string]reflect.Kind{
	"":         fieldsOf(reflect.TypeFor[terminal.Result]()),
	KindSettle: fieldsOf(reflect.TypeFor[terminal.SettleResult]()),
	// The default flows' answers (a merchant's may return others).
	KindSignIn:    {"result": reflect.String, "batch": reflect.String},
	KindLogin:     {"result": reflect.String, "number": reflect.String, "role": reflect.String, "factory_password": reflect.Bool},
	KindLock:      {"result": reflect.String, "locked": reflect.Bool},
	KindProtect:   {"result": reflect.String, "reason": reflect.String},
	KindUnprotect: {"result": reflect.String, "unlocked": reflect.Bool, "was": reflect.String},
	KindClear:     {"result": reflect.String, "records": reflect.Int64, "export": reflect.String, "batch": reflect.String, "next_trace": reflect.String},
	KindQuery:     {"result": reflect.String, "count": reflect.Int64},
	KindSummary:   {"result": reflect.String, "records": reflect.Int64, "period": reflect.String, "from": reflect.String, "to": reflect.String, "printed": reflect.Bool},
}

func fieldsOf(t reflect.Type) map[string]reflect.Kind {
	out := map[string]reflect.Kind{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		k := t.Field(i).Type.Kind()
		if k == reflect.Int {
			k = reflect.Int64
		}
		if name != "" && name != "-" && (k == reflect.String || k == reflect.Int64 || k == reflect.Bool) {
			out[name] = k
		}
	}
	return out
}

// fieldsOfKind are the answer's fields of an operation of kind k.
func fieldsOfKind(k Kind) map[string]reflect.Kind {
	if f, ok := answerFields[k]; ok {
		return f
	}
	return answerFields[""]
}

func fieldNames(fields map[string]reflect.Kind, pred func(reflect.Kind) bool, extra ...string) string {
	var names []string
	for n, k := range fields {
		if pred(k) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return strings.Join(append(names, extra...), ", ")
}

// Parse reads the scenario file name whose source is src: a Lua chunk,
// run in a sandbox (base, table, string and math; no io, os, load or
// require) for LoadTimeout at most, that returns a list of scenario
// tables. Every error names the file and, where the file's list is
// written out as a table, the line: "FILE:LINE: message".
func Parse(ctx context.Context, name string, src []byte) (File, error) {
	chunk, err := parse.Parse(strings.NewReader(string(src)), name)
	if err != nil {
		var pe *parse.Error
		if errors.As(err, &pe) {
			if pe.Pos.Line == parse.EOF {
				return File{}, fmt.Errorf("%s: the file ends too early (a missing } or end?): %s", name, pe.Message)
			}
			return File{}, fmt.Errorf("%s:%d: %s near %q", name, pe.Pos.Line, pe.Message, pe.Token)
		}
		return File{}, fmt.Errorf("%s: %w", name, err)
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return File{}, fmt.Errorf("%s: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, LoadTimeout)
	defer cancel()
	L := sandbox()
	defer L.Close()
	L.SetContext(ctx)
	if err := L.CallByParam(lua.P{Fn: L.NewFunctionFromProto(proto), NRet: 1, Protect: true}); err != nil {
		return File{}, luaError(name, ctx, err)
	}
	ret := L.Get(-1)
	list, ok := ret.(*lua.LTable)
	if !ok {
		return File{}, fmt.Errorf("%s: the file must return a list of scenarios ({ { name = ..., op = ..., expect = ... }, ... }), not %s", name, ret.Type())
	}
	p := &loader{file: name, lines: lines(chunk)}
	f := File{Name: name}
	n := list.Len()
	seen := map[string]bool{}
	for i := 1; i <= n; i++ {
		s, err := p.scenario(i, list.RawGetInt(i), seen)
		if err != nil {
			return File{}, err
		}
		seen[s.Name] = true
		f.Scenarios = append(f.Scenarios, s)
	}
	if f.Plugins, err = p.plugins(list.RawGetString("plugins")); err != nil {
		return File{}, err
	}
	var extra []string
	list.ForEach(func(k, _ lua.LValue) {
		if k.String() == "plugins" {
			return
		}
		if n, ok := k.(lua.LNumber); !ok || float64(n) != math.Trunc(float64(n)) || int(n) < 1 || int(n) > list.Len() {
			extra = append(extra, k.String())
		}
	})
	if len(extra) > 0 {
		return File{}, p.errorf("", "the list of scenarios has keys besides 1 to %d: %s", n, strings.Join(extra, ", "))
	}
	if n == 0 {
		return File{}, fmt.Errorf("%s: the file returns no scenarios", name)
	}
	return f, nil
}

// luaError is a Lua error of the file as FILE:LINE: message (gopher-lua
// already puts the chunk name and the line first), without a stack trace.
func luaError(name string, ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: the file did not finish within %v (a loop that never ends?)", name, LoadTimeout)
	}
	msg := err.Error()
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) && apiErr.Object != nil {
		msg = apiErr.Object.String()
	}
	if i := strings.Index(msg, "\nstack traceback:"); i >= 0 {
		msg = msg[:i]
	}
	if !strings.HasPrefix(msg, name+":") {
		msg = name + ": " + msg
	}
	return errors.New(msg)
}

// sandbox is a Lua state with the base, table, string and math libraries
// only, and nothing that loads code or files.
func sandbox() *lua.LState {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 200, RegistryMaxSize: 1 << 18, MinimizeStackMemory: true})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	for _, g := range []string{"dofile", "loadfile", "load", "loadstring", "collectgarbage", "module", "require", "newproxy", "getfenv", "setfenv", "_printregs"} {
		L.SetGlobal(g, lua.LNil)
	}
	L.GetGlobal("string").(*lua.LTable).RawSetString("dump", lua.LNil)
	return L
}

// lines maps where the scenarios are written, when the file ends with
// `return { ... }`: "3" is the third scenario's table, "3.op" its op
// field, "3.op.kind" the kind in it.
func lines(chunk []ast.Stmt) map[string]int {
	out := map[string]int{}
	if len(chunk) == 0 {
		return out
	}
	ret, ok := chunk[len(chunk)-1].(*ast.ReturnStmt)
	if !ok || len(ret.Exprs) != 1 {
		return out
	}
	list, ok := ret.Exprs[0].(*ast.TableExpr)
	if !ok {
		return out
	}
	out[""] = list.Line()
	var walk func(prefix string, t *ast.TableExpr, depth int)
	walk = func(prefix string, t *ast.TableExpr, depth int) {
		i := 0
		for _, f := range t.Fields {
			var key string
			switch k := f.Key.(type) {
			case nil:
				i++
				key = strconv.Itoa(i)
			case *ast.StringExpr:
				key = k.Value
			default:
				continue
			}
			path := key
			if prefix != "" {
				path = prefix + "." + key
			}
			out[path] = f.Value.Line()
			if sub, ok := f.Value.(*ast.TableExpr); ok && depth < 2 {
				walk(path, sub, depth+1)
			}
		}
	}
	walk("", list, 0)
	return out
}

type loader struct {
	file  string
	lines map[string]int
	at    string // the scenario being read, for messages
}

// errorf is an error at path (as lines keys it), or at its closest
// enclosing table whose line is known.
func (p *loader) errorf(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if p.at != "" {
		msg = p.at + ": " + msg
	}
	for {
		if line, ok := p.lines[path]; ok && line > 0 {
			return fmt.Errorf("%s:%d: %s", p.file, line, msg)
		}
		if path == "" {
			return fmt.Errorf("%s: %s", p.file, msg)
		}
		if i := strings.LastIndex(path, "."); i >= 0 {
			path = path[:i]
		} else {
			path = ""
		}
	}
}

var scenarioKeys = []string{"name", "op", "ui", "expect", "contains", "expect_error"}

var opKeys = []string{"kind", "medium", "amount", "auth_code", "orig", "orig_batch", "orig_trace", "orig_rrn", "request_id",
	"operator", "password", "supervisor_password", "reason", "period", "print"}

func (p *loader) scenario(i int, v lua.LValue, seen map[string]bool) (Scenario, error) {
	at := strconv.Itoa(i)
	p.at = fmt.Sprintf("scenario %d", i)
	t, ok := v.(*lua.LTable)
	if !ok {
		return Scenario{}, p.errorf(at, "a scenario is a table { name = ..., op = { kind = ... }, expect = { ... } }, not %s", v.Type())
	}
	s := Scenario{Line: p.lines[at]}
	name, ok := t.RawGetString("name").(lua.LString)
	if !ok || strings.TrimSpace(string(name)) == "" {
		return Scenario{}, p.errorf(at+".name", "a scenario needs a name (name = \"approved card sale\")")
	}
	s.Name = string(name)
	if seen[s.Name] {
		return Scenario{}, p.errorf(at+".name", "a scenario named %q comes earlier in the file: names must differ", s.Name)
	}
	p.at = fmt.Sprintf("scenario %q", s.Name)
	if err := p.keys(at, t, scenarioKeys); err != nil {
		return Scenario{}, err
	}
	var err error
	if s.Op, err = p.op(at+".op", t.RawGetString("op"), seen); err != nil {
		return Scenario{}, err
	}
	if s.UI, err = p.answers(at+".ui", t.RawGetString("ui")); err != nil {
		return Scenario{}, err
	}
	fields := fieldsOfKind(s.Op.Kind)
	if s.Expect, err = p.expect(at+".expect", t.RawGetString("expect"), fields); err != nil {
		return Scenario{}, err
	}
	if s.Contains, err = p.contains(at+".contains", t.RawGetString("contains"), fields); err != nil {
		return Scenario{}, err
	}
	switch e := t.RawGetString("expect_error").(type) {
	case *lua.LNilType:
	case lua.LString:
		s.ExpectError = string(e)
	default:
		return Scenario{}, p.errorf(at+".expect_error", "expect_error is the code of the refusal, a string (expect_error = \"refund_exceeds_remaining\"), not %s", e.Type())
	}
	switch {
	case s.ExpectError != "" && (s.Expect != nil || s.Contains != nil):
		return Scenario{}, p.errorf(at+".expect_error", "a refused operation has no answer: give expect_error, or expect / contains, not both")
	case s.ExpectError == "" && s.Expect == nil && s.Contains == nil:
		return Scenario{}, p.errorf(at, "the scenario checks nothing: give expect = { result = \"approved\", ... }, contains = { ... } or expect_error = \"code\"")
	}
	return s, nil
}

// keys refuses a key of t that is not one of known.
func (p *loader) keys(path string, t *lua.LTable, known []string) error {
	var err error
	t.ForEach(func(k, _ lua.LValue) {
		if err != nil {
			return
		}
		ks, ok := k.(lua.LString)
		if !ok {
			err = p.errorf(path, "unexpected list entry %s: the fields are %s", k.String(), strings.Join(known, ", "))
			return
		}
		if !slices.Contains(known, string(ks)) {
			err = p.errorf(path+"."+string(ks), "unknown field %s: the fields are %s", ks, strings.Join(known, ", "))
		}
	})
	return err
}

func (p *loader) str(path string, v lua.LValue) (string, error) {
	switch s := v.(type) {
	case *lua.LNilType:
		return "", nil
	case lua.LString:
		return string(s), nil
	}
	return "", p.errorf(path, "%s must be a string, not %s", last(path), v.Type())
}

func last(path string) string {
	if i := strings.LastIndex(path, "."); i >= 0 {
		return path[strings.LastIndex(path[:i], ".")+1:]
	}
	return path
}

func integer(v lua.LValue) (int64, bool) {
	n, ok := v.(lua.LNumber)
	if !ok || float64(n) != math.Trunc(float64(n)) || math.Abs(float64(n)) > 1<<53 {
		return 0, false
	}
	return int64(n), true
}

func (p *loader) op(path string, v lua.LValue, seen map[string]bool) (Op, error) {
	t, ok := v.(*lua.LTable)
	if !ok {
		return Op{}, p.errorf(path, "a scenario needs its operation: op = { kind = \"sale\", amount = 1234 }")
	}
	if err := p.keys(path, t, opKeys); err != nil {
		return Op{}, err
	}
	var op Op
	var err error
	get := func(key string, dst *string) {
		if err == nil {
			*dst, err = p.str(path+"."+key, t.RawGetString(key))
		}
	}
	var kind, medium string
	get("kind", &kind)
	get("medium", &medium)
	get("auth_code", &op.AuthCode)
	get("orig", &op.Orig)
	get("orig_batch", &op.OrigBatch)
	get("orig_trace", &op.OrigTrace)
	get("orig_rrn", &op.OrigRRN)
	get("request_id", &op.RequestID)
	get("operator", &op.Operator)
	get("password", &op.Password)
	get("supervisor_password", &op.SupervisorPassword)
	get("reason", &op.Reason)
	get("period", &op.Period)
	if err != nil {
		return Op{}, err
	}
	op.Kind = Kind(kind)
	if !slices.Contains(kinds, op.Kind) {
		return Op{}, p.errorf(path+".kind", "op.kind %q: want one of %s", kind, kindNames())
	}
	if medium != "" {
		if op.Medium, err = journal.ParseMedium(medium); err != nil {
			return Op{}, p.errorf(path+".medium", "op.medium %q: want card, wechat, alipay, unionpay_qr or cash", medium)
		}
	}
	if a := t.RawGetString("amount"); a != lua.LNil {
		n, ok := integer(a)
		if !ok {
			return Op{}, p.errorf(path+".amount", "op.amount is a whole number of fen (1234 for RMB 12.34), not %s", a.String())
		}
		op.Amount = money.Fen(n)
	}
	switch pr := t.RawGetString("print").(type) {
	case *lua.LNilType:
	case lua.LBool:
		op.Print = bool(pr)
	default:
		return Op{}, p.errorf(path+".print", "op.print is true or false, not %s", pr.String())
	}
	if op.Orig != "" && !seen[op.Orig] {
		return Op{}, p.errorf(path+".orig", "op.orig names %q, which is not an earlier scenario of this file", op.Orig)
	}
	if op.Orig != "" && (op.OrigTrace != "" || op.OrigRRN != "" || op.OrigBatch != "") {
		return Op{}, p.errorf(path+".orig", "give op.orig (an earlier scenario) or orig_trace / orig_rrn, not both")
	}
	return op, nil
}

func (p *loader) answers(path string, v lua.LValue) (map[string]any, error) {
	if v == lua.LNil {
		return nil, nil
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		return nil, p.errorf(path, "ui answers the flow's questions by name: ui = { confirm_refund = true }, not %s", v.Type())
	}
	out := map[string]any{}
	var err error
	t.ForEach(func(k, a lua.LValue) {
		if err != nil {
			return
		}
		ks, ok := k.(lua.LString)
		if !ok {
			err = p.errorf(path, "ui answers questions by name (ui = { confirm_refund = true }); %s is not a name", k.String())
			return
		}
		at := path + "." + string(ks)
		switch a := a.(type) {
		case lua.LBool:
			out[string(ks)] = bool(a)
		case lua.LString:
			out[string(ks)] = string(a)
		case lua.LNumber:
			n, ok := integer(a)
			if !ok {
				err = p.errorf(at, "ui.%s: a number answer is a whole number (an option's number, an amount in fen), not %s", ks, a.String())
				return
			}
			out[string(ks)] = n
		default:
			err = p.errorf(at, "ui.%s: an answer is true or false, a number or a string, not %s", ks, a.Type())
		}
	})
	return out, err
}

func (p *loader) expect(path string, v lua.LValue, fields map[string]reflect.Kind) (map[string]any, error) {
	if v == lua.LNil {
		return nil, nil
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		return nil, p.errorf(path, "expect holds fields of the answer: expect = { result = \"approved\" }, not %s", v.Type())
	}
	out := map[string]any{}
	var err error
	t.ForEach(func(k, w lua.LValue) {
		if err != nil {
			return
		}
		name := k.String()
		at := path + "." + name
		kind, known := fields[name]
		if _, isName := k.(lua.LString); !isName || !known {
			err = p.errorf(at, "expect.%s: the answer has no field %s (it has %s)", name, name, fieldNames(fields, func(reflect.Kind) bool { return true }))
			return
		}
		switch kind {
		case reflect.String:
			s, ok := w.(lua.LString)
			if !ok {
				err = p.errorf(at, "expect.%s is text: want a string, not %s", name, w.Type())
			}
			out[name] = string(s)
		case reflect.Int64:
			n, ok := integer(w)
			if !ok {
				err = p.errorf(at, "expect.%s is a whole number, not %s", name, w.String())
			}
			out[name] = n
		case reflect.Bool:
			b, ok := w.(lua.LBool)
			if !ok {
				err = p.errorf(at, "expect.%s is true or false, not %s", name, w.String())
			}
			out[name] = bool(b)
		}
	})
	return out, err
}

func (p *loader) contains(path string, v lua.LValue, fields map[string]reflect.Kind) (map[string][]string, error) {
	if v == lua.LNil {
		return nil, nil
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		return nil, p.errorf(path, "contains holds text each field must contain: contains = { printed = \"THANK YOU\" }, not %s", v.Type())
	}
	out := map[string][]string{}
	var err error
	t.ForEach(func(k, w lua.LValue) {
		if err != nil {
			return
		}
		name := k.String()
		at := path + "." + name
		_, isName := k.(lua.LString)
		if !isName || fields[name] != reflect.String && name != FieldPrinted && name != FieldShown {
			err = p.errorf(at, "contains.%s: not a text field: want one of %s", name, fieldNames(fields, func(k reflect.Kind) bool { return k == reflect.String }, FieldPrinted, FieldShown))
			return
		}
		bad := p.errorf(at, "contains.%s: want the text it must contain, a non-empty string or a list of them", name)
		switch w := w.(type) {
		case lua.LString:
			if w == "" {
				err = bad
				return
			}
			out[name] = []string{string(w)}
		case *lua.LTable:
			for i := 1; i <= w.Len(); i++ {
				s, ok := w.RawGetInt(i).(lua.LString)
				if !ok || s == "" {
					err = bad
					return
				}
				out[name] = append(out[name], string(s))
			}
			if len(out[name]) == 0 {
				err = bad
			}
		default:
			err = bad
		}
	})
	return out, err
}

// plugins reads a file's plugins table: plugin name -> key -> value, the
// values strings, numbers or booleans as a profile's TOML would hold them.
func (p *loader) plugins(v lua.LValue) (map[string]map[string]string, error) {
	if v == lua.LNil {
		return nil, nil
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		return nil, p.errorf("plugins", "plugins sets the fakes' configuration by plugin name: plugins = { pinpad = { pin = \"wrong\" } }, not %s", v.Type())
	}
	out := map[string]map[string]string{}
	var err error
	t.ForEach(func(k, cv lua.LValue) {
		if err != nil {
			return
		}
		name, ok := k.(lua.LString)
		ct, isTable := cv.(*lua.LTable)
		if !ok || !isTable {
			err = p.errorf("plugins", "plugins.%s must be a table of configuration keys", k.String())
			return
		}
		keys := map[string]string{}
		ct.ForEach(func(ck, val lua.LValue) {
			if err != nil {
				return
			}
			switch val.(type) {
			case lua.LString, lua.LNumber, lua.LBool:
				keys[ck.String()] = val.String()
			default:
				err = p.errorf("plugins", "plugins.%s.%s must be a string, a number or true/false, not %s", name, ck.String(), val.Type())
			}
		})
		out[string(name)] = keys
	})
	return out, err
}
