package flowcheck

import (
	"fmt"
	"sort"
	"strings"

	"github.com/yuin/gopher-lua/ast"
)

// binding is what the checker knows of a local variable's value.
type binding struct {
	// module is the module the local holds (require("posrt.txn") or a
	// library's name), empty when it holds something else.
	module string
	fn     bool // a function expression
	table  bool // a table constructor
}

type scope struct {
	parent *scope
	names  map[string]*binding
}

func (s *scope) lookup(name string) *binding {
	for ; s != nil; s = s.parent {
		if b, ok := s.names[name]; ok {
			return b
		}
	}
	return nil
}

// walker walks one file's syntax tree, keeping the locals in scope.
type walker struct {
	c    *Checker
	file string
	self string // the file's flow name
	kind Kind
	// collecting: the first walk, which only learns assigned globals.
	collecting bool
	assigned   map[string]bool
	top        *scope
	problems   []Problem
}

func (w *walker) report(line int, format string, args ...any) {
	if w.collecting {
		return
	}
	w.problems = append(w.problems, Problem{File: w.file, Line: line, Message: fmt.Sprintf(format, args...)})
}

func (w *walker) walkChunk(chunk []ast.Stmt) {
	w.top = &scope{names: map[string]*binding{}}
	w.block(w.top, chunk)
}

func (w *walker) block(s *scope, stmts []ast.Stmt) {
	for _, st := range stmts {
		w.stmt(s, st)
	}
}

func inner(s *scope, names ...string) *scope {
	n := &scope{parent: s, names: map[string]*binding{}}
	for _, name := range names {
		n.names[name] = &binding{}
	}
	return n
}

// requireOf returns the module name of e when e is require("literal")
// with the global require.
func (w *walker) requireOf(s *scope, e ast.Expr) (string, bool) {
	call, ok := e.(*ast.FuncCallExpr)
	if !ok || call.Receiver != nil {
		return "", false
	}
	id, ok := call.Func.(*ast.IdentExpr)
	if !ok || id.Value != "require" || s.lookup("require") != nil || len(call.Args) != 1 {
		return "", false
	}
	str, ok := call.Args[0].(*ast.StringExpr)
	if !ok {
		return "", false
	}
	return str.Value, true
}

func (w *walker) bindingOf(s *scope, e ast.Expr) *binding {
	switch e.(type) {
	case *ast.FunctionExpr:
		return &binding{fn: true}
	case *ast.TableExpr:
		return &binding{table: true}
	case nil:
		return &binding{}
	}
	if m, ok := w.requireOf(s, e); ok {
		return &binding{module: m}
	}
	return &binding{}
}

func (w *walker) stmt(s *scope, st ast.Stmt) {
	switch x := st.(type) {
	case *ast.LocalAssignStmt:
		// The names come into scope before the values are walked, so that
		// a local function may call itself.
		bs := make([]*binding, len(x.Names))
		for i := range x.Names {
			var e ast.Expr
			if i < len(x.Exprs) {
				e = x.Exprs[i]
			}
			bs[i] = w.bindingOf(s, e)
		}
		for i, name := range x.Names {
			s.names[name] = bs[i]
		}
		w.exprs(s, x.Exprs)
	case *ast.AssignStmt:
		w.exprs(s, x.Rhs)
		for i, lhs := range x.Lhs {
			var rhs ast.Expr
			if i < len(x.Rhs) {
				rhs = x.Rhs[i]
			}
			w.assign(s, lhs, rhs)
		}
	case *ast.FuncCallStmt:
		w.expr(s, x.Expr)
	case *ast.DoBlockStmt:
		w.block(inner(s), x.Stmts)
	case *ast.WhileStmt:
		w.expr(s, x.Condition)
		w.block(inner(s), x.Stmts)
	case *ast.RepeatStmt:
		body := inner(s)
		w.block(body, x.Stmts)
		w.expr(body, x.Condition) // the condition sees the body's locals
	case *ast.IfStmt:
		w.expr(s, x.Condition)
		w.block(inner(s), x.Then)
		w.block(inner(s), x.Else)
	case *ast.NumberForStmt:
		w.exprs(s, []ast.Expr{x.Init, x.Limit, x.Step})
		w.block(inner(s, x.Name), x.Stmts)
	case *ast.GenericForStmt:
		w.exprs(s, x.Exprs)
		w.block(inner(s, x.Names...), x.Stmts)
	case *ast.FuncDefStmt:
		var self []string
		if x.Name.Receiver != nil {
			// function M:name(...): a method of the table M, with self.
			w.expr(s, x.Name.Receiver)
			self = []string{"self"}
		} else {
			w.assign(s, x.Name.Func, x.Func)
		}
		w.function(s, x.Func, self...)
	case *ast.ReturnStmt:
		w.exprs(s, x.Exprs)
	}
}

// assign walks the target lhs of an assignment of rhs.
func (w *walker) assign(s *scope, lhs, rhs ast.Expr) {
	switch x := lhs.(type) {
	case *ast.IdentExpr:
		if b := s.lookup(x.Value); b != nil {
			*b = *w.bindingOf(s, rhs)
			return
		}
		if w.collecting {
			w.assigned[x.Value] = true
		}
	case *ast.AttrGetExpr:
		// A field written is not read: walk the table and the key only.
		w.expr(s, x.Object)
		w.expr(s, x.Key)
	default:
		w.expr(s, lhs)
	}
}

func (w *walker) exprs(s *scope, es []ast.Expr) {
	for _, e := range es {
		w.expr(s, e)
	}
}

func (w *walker) function(s *scope, f *ast.FunctionExpr, extra ...string) {
	names := append([]string(nil), extra...)
	if f.ParList != nil {
		names = append(names, f.ParList.Names...)
	}
	w.block(inner(s, names...), f.Stmts)
}

func (w *walker) expr(s *scope, e ast.Expr) {
	switch x := e.(type) {
	case nil:
	case *ast.IdentExpr:
		w.ident(s, x)
	case *ast.AttrGetExpr:
		w.field(s, x.Object, x.Key, x.Key.Line())
		w.expr(s, x.Object)
		w.expr(s, x.Key)
	case *ast.FuncCallExpr:
		w.call(s, x)
	case *ast.FunctionExpr:
		w.function(s, x)
	case *ast.TableExpr:
		for _, f := range x.Fields {
			w.expr(s, f.Key)
			w.expr(s, f.Value)
		}
	case *ast.LogicalOpExpr:
		w.exprs(s, []ast.Expr{x.Lhs, x.Rhs})
	case *ast.RelationalOpExpr:
		w.exprs(s, []ast.Expr{x.Lhs, x.Rhs})
	case *ast.StringConcatOpExpr:
		w.exprs(s, []ast.Expr{x.Lhs, x.Rhs})
	case *ast.ArithmeticOpExpr:
		w.exprs(s, []ast.Expr{x.Lhs, x.Rhs})
	case *ast.UnaryMinusOpExpr:
		w.expr(s, x.Expr)
	case *ast.UnaryNotOpExpr:
		w.expr(s, x.Expr)
	case *ast.UnaryLenOpExpr:
		w.expr(s, x.Expr)
	}
}

// ident checks the read of a name that is not a local: a global.
func (w *walker) ident(s *scope, x *ast.IdentExpr) {
	if s.lookup(x.Value) != nil {
		return
	}
	if x.Value == "require" {
		w.report(x.Line(), "require is only called with a module name in quotes, as require(\"posrt.txn\")")
		return
	}
	w.global(x.Line(), x.Value)
}

func (w *walker) global(line int, name string) {
	switch {
	case w.c.globals[name] || w.assigned[name]:
	case w.c.missing[name]:
		w.report(line, "%s is not available to a flow: the sandbox leaves it out", name)
	default:
		w.report(line, "unknown global %s%s", name, suggest(name, keys(w.c.globals), ""))
	}
}

// call checks a call: require with its module name, a module's function
// called as a method.
func (w *walker) call(s *scope, x *ast.FuncCallExpr) {
	if id, ok := x.Func.(*ast.IdentExpr); ok && id.Value == "require" && s.lookup("require") == nil {
		w.require(s, x)
		w.exprs(s, x.Args)
		return
	}
	if x.Receiver != nil {
		w.field(s, x.Receiver, &ast.StringExpr{Value: x.Method}, x.Line())
		w.expr(s, x.Receiver)
	} else {
		w.expr(s, x.Func)
	}
	w.exprs(s, x.Args)
}

func (w *walker) require(s *scope, x *ast.FuncCallExpr) {
	name, ok := w.requireOf(s, x)
	if !ok {
		w.report(x.Line(), "require takes one module name in quotes, as require(\"posrt.txn\"): a flow cannot require a name it computes")
		return
	}
	if _, ok := w.c.modules[name]; ok {
		return
	}
	if name == w.self && w.c.libraries[name] {
		w.report(x.Line(), "library %s requires itself", name)
		return
	}
	if w.c.libraries[name] {
		return
	}
	known := append(keys(w.c.libraries), keys(w.c.modules)...)
	sort.Strings(known)
	w.report(x.Line(), "no module %q (did you mean %q?): a flow may require %s", name, closest(name, known), strings.Join(known, ", "))
}

// field checks the read of obj.key: a function of a posrt.* module held in
// a local, a field of one of the sandbox's tables (string.upper), or a
// global read through _G.
func (w *walker) field(s *scope, obj, key ast.Expr, line int) {
	k, ok := key.(*ast.StringExpr)
	if !ok {
		return
	}
	var module string
	if m, ok := w.requireOf(s, obj); ok {
		module = m
	}
	if id, ok := obj.(*ast.IdentExpr); ok {
		if b := s.lookup(id.Value); b != nil {
			module = b.module
		} else if id.Value == "_G" {
			w.global(line, k.Value)
			return
		} else if fields, ok := w.c.fields[id.Value]; ok && w.c.globals[id.Value] && !w.assigned[id.Value] {
			if !fields[k.Value] {
				w.report(line, "%s.%s is not available to a flow%s", id.Value, k.Value, suggest(k.Value, keys(fields), id.Value+"."))
			}
			return
		}
	}
	fns, ok := w.c.modules[module]
	if !ok {
		return
	}
	for _, f := range fns {
		if f == k.Value {
			return
		}
	}
	w.report(line, "%s has no function %s (did you mean %s?): it has %s", module, k.Value, closest(k.Value, fns), strings.Join(fns, ", "))
}

// checkReturn checks that the file ends by returning what the engine
// expects of its kind.
func (w *walker) checkReturn(chunk []ast.Stmt, src []byte) {
	want := "a flow must end with return function(ctx) ... end"
	if w.kind == KindLibrary {
		want = fmt.Sprintf("library %s must end by returning the table of its functions (return M)", w.self)
	}
	if len(chunk) == 0 {
		w.report(lastLine(src), "%s", want)
		return
	}
	last := chunk[len(chunk)-1]
	ret, ok := last.(*ast.ReturnStmt)
	if !ok {
		w.report(lastLine(src), "%s", want)
		return
	}
	if len(ret.Exprs) == 1 {
		b := w.bindingOf(w.top, ret.Exprs[0])
		if id, ok := ret.Exprs[0].(*ast.IdentExpr); ok {
			if lb := w.top.lookup(id.Value); lb != nil {
				b = lb
			}
		}
		if w.kind == KindFlow && b.fn || w.kind == KindLibrary && b.table {
			return
		}
	}
	w.report(ret.Line(), "%s", want)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// closest returns the name of names nearest to s by edit distance (the
// first in order among equals).
func closest(s string, names []string) string {
	best, bestD := "", -1
	for _, n := range names {
		if d := distance(s, n); bestD < 0 || d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// suggest is " (did you mean PREFIX+X?)" with X the closest of names to
// s, when it is close enough to be a misspelling of s, else empty.
func suggest(s string, names []string, prefix string) string {
	c := closest(s, names)
	if c == "" || distance(s, c) > max(1, len(s)/3) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s%s?)", prefix, c)
}

// distance is the edit distance of a and b by bytes, a swap of two
// neighbours counting as one edit (pirnt is one edit from print).
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
