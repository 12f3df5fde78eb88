package flowcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/posrt/posrt/runtime/flow"
)

// Problem is one thing wrong with a flow file, at a line of it.
type Problem struct {
	File    string
	Line    int
	Message string
}

// String is the problem as posrt flow check prints it: "FILE:LINE: message".
func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message) }

// Checker checks flow files against what the engine offers a flow.
type Checker struct {
	// modules are the posrt.* modules with their functions (flow.Modules).
	modules map[string][]string
	// libraries are the flow files a flow may require by name.
	libraries map[string]bool
	// globals are the sandbox's globals (flow.Globals).
	globals map[string]bool
	// missing are the globals of a stock Lua state the sandbox leaves out
	// (os, io, load...): a read of one says so rather than "unknown".
	missing map[string]bool
	// fields are the names in each of the sandbox's global tables (string,
	// table, math) as a flow sees them (no string.dump).
	fields map[string]map[string]bool
}

// fieldProbe is a flow that returns the fields of every global table of
// the sandbox it runs in.
const fieldProbe = `
return function(ctx)
  local out = {}
  for name, v in pairs(_G) do
    if type(v) == "table" and v ~= _G then
      local fields = {}
      for k in pairs(v) do
        if type(k) == "string" then
          table.insert(fields, k)
        end
      end
      out[name] = fields
    end
  end
  return out
end
`

// NewChecker returns a checker for flows that may require the posrt.*
// modules and the flow libraries named in libraries (the ones present in
// the flow layers: see Libraries). It runs one probing flow in the
// engine's sandbox to learn the fields of its global tables.
func NewChecker(ctx context.Context, libraries []string) (*Checker, error) {
	c := &Checker{
		modules:   flow.Modules(),
		libraries: map[string]bool{},
		globals:   map[string]bool{},
		missing:   map[string]bool{},
		fields:    map[string]map[string]bool{},
	}
	for _, l := range libraries {
		c.libraries[l] = true
	}
	for _, g := range flow.Globals() {
		c.globals[g] = true
	}
	stock := lua.NewState()
	stock.G.Global.ForEach(func(k, _ lua.LValue) {
		if ks, ok := k.(lua.LString); ok && !c.globals[string(ks)] {
			c.missing[string(ks)] = true
		}
	})
	stock.Close()

	e, err := flow.NewFromSources(flow.Options{}, map[string]string{"fieldprobe": fieldProbe})
	if err != nil {
		return nil, fmt.Errorf("probing the flow sandbox: %w", err)
	}
	out, err := e.Run(ctx, flow.Host{}, "fieldprobe", map[string]any{})
	if err != nil {
		return nil, fmt.Errorf("probing the flow sandbox: %w", err)
	}
	for name, v := range out {
		set := map[string]bool{}
		if list, ok := v.([]any); ok {
			for _, f := range list {
				if s, ok := f.(string); ok {
					set[s] = true
				}
			}
		}
		c.fields[name] = set
	}
	return c, nil
}

// Check checks the flow file named file with source src without running
// it: a flow or a library by its name, as KindOf says. It returns the
// problems found in the order of their lines, none for a clean file. A
// file that does not parse has one problem, its syntax error.
func (c *Checker) Check(file string, src []byte) []Problem {
	name := strings.TrimSuffix(filepath.Base(file), ".lua")
	chunk, err := parse.Parse(bytes.NewReader(src), file)
	if err != nil {
		return []Problem{syntaxProblem(file, src, err)}
	}
	w := &walker{c: c, file: file, self: name, kind: KindOf(name), collecting: true, assigned: map[string]bool{}}
	// The first walk learns the globals the file assigns itself (a
	// function it defines as a global may be called before its
	// definition's line); the second reports.
	w.walkChunk(chunk)
	w.problems, w.collecting = nil, false
	w.walkChunk(chunk)
	w.checkReturn(chunk, src)
	if _, err := lua.Compile(chunk, file); err != nil {
		var ce *lua.CompileError
		line := lastLine(src)
		msg := err.Error()
		if errors.As(err, &ce) {
			line, msg = ce.Line, ce.Message
		}
		w.report(line, "does not compile: %s", msg)
	}
	sort.SliceStable(w.problems, func(i, j int) bool { return w.problems[i].Line < w.problems[j].Line })
	return w.problems
}

func syntaxProblem(file string, src []byte, err error) Problem {
	var pe *parse.Error
	if !errors.As(err, &pe) {
		return Problem{File: file, Line: 1, Message: "syntax error: " + strings.TrimSpace(err.Error())}
	}
	msg := pe.Message
	if pe.Token != "" {
		msg += fmt.Sprintf(" near '%s'", pe.Token)
	}
	line := pe.Pos.Line
	if line == parse.EOF {
		line = lastLine(src)
		msg += " (the file ended before the statement did)"
	}
	return Problem{File: file, Line: line, Message: msg}
}

// lastLine is the number of the last line of src that holds anything.
func lastLine(src []byte) int {
	n := bytes.Count(bytes.TrimRight(src, " \t\r\n"), []byte("\n")) + 1
	return n
}
