package flowcheck

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/posrt/posrt/flows"
	"github.com/posrt/posrt/runtime/flow"
)

func newChecker(t *testing.T) *Checker {
	t.Helper()
	entries, err := List(flows.Default, "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewChecker(context.Background(), Libraries(entries))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// aModule returns a posrt.* module and one of its functions, taken from
// flow.Modules so that the tests follow the engine's modules.
func aModule(t *testing.T) (module, fn string) {
	t.Helper()
	mods := flow.Modules()
	names := make([]string, 0, len(mods))
	for m := range mods {
		names = append(names, m)
	}
	sort.Strings(names)
	for _, m := range names {
		if len(mods[m]) > 0 {
			return m, mods[m][0]
		}
	}
	t.Fatal("flow.Modules lists no module with a function")
	return "", ""
}

// Every kind of problem is reported once, at its line, in the form
// FILE:LINE: message.
func TestCheckReportsEachProblemAtItsLine(t *testing.T) {
	c := newChecker(t)
	mod, fn := aModule(t)
	typo := fn + "x"
	for _, tc := range []struct {
		name string
		file string // sale.lua when empty
		src  string
		line int
		want string // in the message
	}{
		{"syntax error", "", "local x = 1\nx = = 2\nreturn function(ctx) end\n", 2, "syntax error near '='"},
		{"unterminated string", "", "return function(ctx)\n  local s = \"abc\n  return {}\nend\n", 3, "unterminated string"},
		{"file ends mid-statement", "", "return function(ctx)\n  if ctx.amount then\n    return {}\n", 3, "the file ended before the statement did"},
		{"unknown posrt module", "", "local x = 1\nlocal ui = require(\"posrt.uii\")\nreturn function(ctx) end\n", 2, `no module "posrt.uii"`},
		{"unknown library", "", "\n\nlocal r = require(\"receipt\")\nreturn function(ctx) end\n", 3, `(did you mean "receipts"?)`},
		{"a file is not required", "", "local r = require(\"./helpers.lua\")\nreturn function(ctx) end\n", 1, `no module "./helpers.lua"`},
		{"unknown module function", "", fmt.Sprintf("local m = require(%q)\nreturn function(ctx)\n  local v = 1\n  m.%s({})\nend\n", mod, typo), 4,
			fmt.Sprintf("%s has no function %s (did you mean %s?)", mod, typo, fn)},
		{"unknown module function read, not called", "", fmt.Sprintf("local m = require(%q)\nlocal f = m.%s\nreturn function(ctx) end\n", mod, typo), 2, "has no function " + typo},
		{"unknown module function as a method", "", fmt.Sprintf("local m = require(%q)\nreturn function(ctx)\n\n\n  m:%s()\nend\n", mod, typo), 5, "has no function " + typo},
		{"unknown function of require(...) itself", "", fmt.Sprintf("return function(ctx)\n  require(%q).%s()\nend\n", mod, typo), 2, "has no function " + typo},
		{"os", "", "return function(ctx)\n  os.exit(1)\nend\n", 2, "os is not available to a flow"},
		{"io", "", "return function(ctx)\n  local f =\n    io.open(\"/etc/passwd\")\nend\n", 3, "io is not available to a flow"},
		{"load", "", "local f = load(\"return 1\")\nreturn function(ctx) end\n", 1, "load is not available to a flow"},
		{"loadstring", "", "return function(ctx)\n  return loadstring(ctx.code)()\nend\n", 2, "loadstring is not available to a flow"},
		{"dofile", "", "\ndofile(\"x.lua\")\nreturn function(ctx) end\n", 2, "dofile is not available to a flow"},
		{"collectgarbage", "", "return function(ctx)\n  collectgarbage()\nend\n", 2, "collectgarbage is not available to a flow"},
		{"debug", "", "return function(ctx)\n  local d = debug.getinfo(1)\nend\n", 2, "debug is not available to a flow"},
		{"string.dump", "", "return function(ctx)\n  local s = string.dump(print)\nend\n", 2, "string.dump is not available to a flow"},
		{"a misspelt string function", "", "return function(ctx)\n  return { s = string.uper(\"a\") }\nend\n", 2, "string.uper is not available to a flow (did you mean string.upper?)"},
		{"a global through _G", "", "return function(ctx)\n  local o = _G.os\nend\n", 2, "os is not available to a flow"},
		{"a misspelt global", "", "return function(ctx)\n  pirnt(\"hello\")\nend\n", 2, "unknown global pirnt (did you mean print?)"},
		{"require of a computed name", "", "local name = \"posrt.txn\"\nlocal m = require(name)\nreturn function(ctx) end\n", 2, "a flow cannot require a name it computes"},
		{"require handed on", "", "local r = require\nreturn function(ctx) end\n", 1, "require is only called with a module name in quotes"},
		{"flow returns a table", "", "local x = 1\nreturn { run = function(ctx) end }\n", 2, "a flow must end with return function(ctx) ... end"},
		{"flow returns nothing", "", "local function run(ctx)\n  return {}\nend\n\n", 3, "a flow must end with return function(ctx) ... end"},
		{"empty flow", "", "", 1, "a flow must end with return function(ctx) ... end"},
		{"library returns a function", "receipts.lua", "local M = {}\nreturn function(ctx) end\n", 2, "library receipts must end by returning the table of its functions"},
		{"library returns a reassigned local", "receipts.lua", "local M = {}\nM = 1\nreturn M\n", 3, "library receipts must end by returning the table"},
		{"library requires itself", "receipts.lua", "local r = require(\"receipts\")\nreturn {}\n", 1, "library receipts requires itself"},
		{"goto without its label", "", "return function(ctx)\n  goto done\nend\n", 3, "does not compile: no visible label 'done'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file
			if file == "" {
				file = "sale.lua"
			}
			file = filepath.Join("merchant", file)
			ps := c.Check(file, []byte(tc.src))
			if len(ps) != 1 {
				t.Fatalf("%d problems, want 1: %v", len(ps), ps)
			}
			prefix := fmt.Sprintf("%s:%d: ", file, tc.line)
			if got := ps[0].String(); !strings.HasPrefix(got, prefix) || !strings.Contains(got, tc.want) {
				t.Fatalf("got %q\nwant %q...%q", got, prefix, tc.want)
			}
		})
	}
}

// Files a flow may hold pass: locals shadowing the names of missing
// globals, functions defined as globals and called before their line,
// methods with self, a library returning its local table.
func TestCheckPassesCleanFiles(t *testing.T) {
	c := newChecker(t)
	mod, fn := aModule(t)
	for _, tc := range []struct{ name, file, src string }{
		{"a module function", "sale.lua", fmt.Sprintf("local m = require(%q)\nreturn function(ctx)\n  m.%s({})\n  require(%q).%s()\nend\n", mod, fn, mod, fn)},
		{"a local named like a missing global", "sale.lua", "local os = { time = function() return 1 end }\nreturn function(ctx)\n  return { t = os.time() }\nend\n"},
		{"a local shadows a module local", "sale.lua", fmt.Sprintf("local m = require(%q)\nreturn function(ctx)\n  local m = { anything = 1 }\n  return { v = m.anything }\nend\n", mod)},
		{"a global function defined after its use", "sale.lua", "local function run(ctx)\n  return helper(ctx)\nend\nfunction helper(ctx)\n  return {}\nend\nreturn run\n"},
		{"methods and loops", "sale.lua", "local T = {}\nfunction T:sum(list)\n  local n = 0\n  for _, v in ipairs(list) do n = n + v end\n  for i = 1, #list do n = n + i end\n  repeat local k = 1 until k == 1\n  return n + self.base\nend\nreturn function(ctx)\n  return { n = T:sum({1, 2}), s = (\"x\"):upper(), f = string.format(\"%d\", 1), m = math.floor(1.5) }\nend\n"},
		{"a library's local table", "receipts.lua", "local M = {}\nfunction M.document(t, res, duplicate)\n  return {}, 0\nend\nreturn M\n"},
		{"a library's table constructor", "receipts.lua", "return { document = function() return {}, 0 end }\n"},
		{"a library required", "sale.lua", "local receipts = require(\"receipts\")\nreturn function(ctx)\n  local lines, n = receipts.document({}, {}, false)\n  return {}\nend\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ps := c.Check(tc.file, []byte(tc.src)); len(ps) != 0 {
				t.Fatalf("problems in a clean file: %v", ps)
			}
		})
	}
}

// The checker never rejects posrt's own flows.
func TestEveryDefaultFlowPasses(t *testing.T) {
	c := newChecker(t)
	files, err := fs.Glob(flows.Default, "*.lua")
	if err != nil || len(files) == 0 {
		t.Fatalf("no default flows: %v", err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.lua") {
			continue // posrt flow test's scenarios, not flows
		}
		src, err := fs.ReadFile(flows.Default, f)
		if err != nil {
			t.Fatal(err)
		}
		if ps := c.Check(f, src); len(ps) != 0 {
			t.Errorf("%s: %v", f, ps)
		}
	}
}

// Several problems in one file come in the order of their lines.
func TestCheckReportsEveryProblemInLineOrder(t *testing.T) {
	c := newChecker(t)
	src := "local ui = require(\"posrt.nope\")\nlocal function run(ctx)\n  os.exit(1)\n  pirnt(1)\nend\nreturn {}\n"
	var got []int
	for _, p := range c.Check("sale.lua", []byte(src)) {
		got = append(got, p.Line)
	}
	if want := []int{1, 3, 4, 6}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("lines %v, want %v", got, want)
	}
}

func TestKindOf(t *testing.T) {
	if KindOf("receipts") != KindLibrary || KindOf("sale") != KindFlow || KindOf("tip") != KindFlow {
		t.Fatal("receipts is the engine's library, sale and a new file are flows")
	}
}

func TestListTellsDefaultsFromOverrides(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{"sale.lua": "return function(ctx) end", "receipts.lua": "return {}", "tip.lua": "return function(ctx) end", "notes.txt": "", "sub/void.lua": "return function(ctx) end"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := List(flows.Default, dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Entry{}
	for _, e := range entries {
		got[e.Name] = e
	}
	for name, want := range map[string]Entry{
		"sale":     {Name: "sale", Kind: KindFlow, Origin: OriginOverridden, From: filepath.Join(dir, "sale.lua")},
		"receipts": {Name: "receipts", Kind: KindLibrary, Origin: OriginOverridden, From: filepath.Join(dir, "receipts.lua")},
		"tip":      {Name: "tip", Kind: KindFlow, Origin: OriginAdded, From: filepath.Join(dir, "tip.lua")},
		"void":     {Name: "void", Kind: KindFlow, Origin: OriginDefault, From: Embedded}, // sub/ is not a layer
		"cash":     {Name: "cash", Kind: KindFlow, Origin: OriginDefault, From: Embedded},
	} {
		if got[name] != want {
			t.Errorf("%s = %+v, want %+v", name, got[name], want)
		}
	}
	defaults, _ := flow.ReadLayers(flows.Default) // the flows, without posrt flow test's *_test.lua
	if len(entries) != len(defaults)+1 {
		t.Errorf("%d entries, want the %d defaults and tip: %v", len(entries), len(defaults), entries)
	}
	if _, err := List(flows.Default, filepath.Join(dir, "notes.txt")); err == nil {
		t.Error("a file as the flows directory was accepted")
	}
}
