package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFlowListShowsDefaultsAndOverrides(t *testing.T) {
	code, stdout, stderr := runApp(t, context.Background(), "flow", "list")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, "NAME") || !hasRow(stdout, "sale", "flow", "default", "embedded") || !hasRow(stdout, "receipts", "library", "default", "embedded") {
		t.Fatalf("list of the default profile:\n%s", stdout)
	}

	dir := t.TempDir()
	for _, f := range []string{"sale.lua", "tip.lua"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("return function(ctx) return {} end\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := writeFile(t, "posrt.toml", strings.Replace(readDefaultProfile(t), `dir = ""`, `dir = "`+dir+`"`, 1))
	for _, args := range [][]string{{"flow", "list", "--flows-dir", dir}, {"flow", "list", "--config", cfg}} {
		code, stdout, stderr := runApp(t, context.Background(), args...)
		if code != 0 {
			t.Fatalf("%v: exit %d, stderr %q", args, code, stderr)
		}
		if !hasRow(stdout, "sale", "flow", "overridden", filepath.Join(dir, "sale.lua")) ||
			!hasRow(stdout, "tip", "flow", "added", filepath.Join(dir, "tip.lua")) ||
			!hasRow(stdout, "void", "flow", "default", "embedded") {
			t.Fatalf("%v:\n%s", args, stdout)
		}
	}

	code, _, stderr = runApp(t, context.Background(), "flow", "list", "--flows-dir", dir, "--config", cfg)
	if code != 1 || !strings.Contains(stderr, "posrt flow list: give --config or --flows-dir, not both") {
		t.Fatalf("both flags: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runApp(t, context.Background(), "flow", "list", "--flows-dir", filepath.Join(dir, "missing"))
	if code != 1 || !strings.Contains(stderr, "is not a directory") {
		t.Fatalf("missing directory: exit %d, stderr %q", code, stderr)
	}
}

func TestFlowCheck(t *testing.T) {
	good := writeFile(t, "sale.lua", "local txn = require(\"posrt.txn\")\nreturn function(ctx)\n  return txn.record()\nend\n")
	bad := writeFile(t, "refund.lua", "local txn = require(\"posrt.txn\")\nreturn function(ctx)\n  os.exit(1)\n  return txn.recrod()\nend\n")

	code, stdout, stderr := runApp(t, context.Background(), "flow", "check", good, "../flows/receipts.lua")
	if code != 0 || stdout != good+": ok\n../flows/receipts.lua: ok\n" {
		t.Fatalf("clean files: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	code, stdout, stderr = runApp(t, context.Background(), "flow", "check", good, bad)
	want := good + ": ok\n" +
		bad + ":3: os is not available to a flow: the sandbox leaves it out\n" +
		bad + ":4: posrt.txn has no function recrod (did you mean record?): it has "
	if code != 1 || !strings.HasPrefix(stdout, want) || !strings.Contains(stderr, "posrt flow check: 2 problem(s); 1 of 2 file(s) not ok") {
		t.Fatalf("exit %d\nstdout %q\nwant   %q...\nstderr %q", code, stdout, want, stderr)
	}

	code, _, stderr = runApp(t, context.Background(), "flow", "check", filepath.Join(t.TempDir(), "none.lua"))
	if code != 1 || !strings.Contains(stderr, "none.lua: no such file") {
		t.Fatalf("missing file: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runApp(t, context.Background(), "flow", "check")
	if code != 2 || !strings.Contains(stderr, "name the flow files to check") {
		t.Fatalf("no file: exit %d, stderr %q", code, stderr)
	}
}

// hasRow says whether out has a line whose fields are fields.
func hasRow(out string, fields ...string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.Join(strings.Fields(l), " ") == strings.Join(fields, " ") {
			return true
		}
	}
	return false
}

func readDefaultProfile(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../runtime/config/default.toml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// posrt flow test runs the embedded scenarios, and a merchant's, each
// file on a terminal of its own; a failure or a bad file exits 1.
func TestFlowTest(t *testing.T) {
	code, stdout, stderr := runApp(t, context.Background(), "flow", "test")
	if code != 0 {
		t.Fatalf("embedded scenarios: exit %d\n%s%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "ok ") {
			n++
		} else if !strings.HasPrefix(l, "=== flows/") && l != lines[len(lines)-1] {
			t.Errorf("unexpected line %q", l)
		}
	}
	for _, want := range []string{"=== flows/sale_test.lua", "=== flows/void_test.lua", "=== flows/refund_test.lua",
		"ok approved card sale prints both copies", "ok WeChat Pay code is told from its digits", "ok one fen more is refused"} {
		if !strings.Contains(stdout, want+"\n") {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if last := lines[len(lines)-1]; n < 20 || last != fmt.Sprintf("%d scenario(s): %d ok, 0 failed", n, n) {
		t.Errorf("summary %q after %d ok lines", last, n)
	}
	// The scenario files are not flows.
	if _, list, _ := runApp(t, context.Background(), "flow", "list"); strings.Contains(list, "_test") {
		t.Errorf("flow list shows scenario files:\n%s", list)
	}

	dir := t.TempDir()
	failing := filepath.Join(dir, "mine_test.lua")
	if err := os.WriteFile(failing, []byte(`return {
  { name = "declined", op = { kind = "sale", amount = 1251 }, expect = { result = "declined" } },
  { name = "not approved", op = { kind = "sale", amount = 2251 }, expect = { result = "approved" } },
}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := writeFile(t, "bad_test.lua", "return {\n  { name = \"x\", op = { kind = \"sale\", amount = 1 },\n    expect = { reslt = \"approved\" } },\n}\n")
	code, stdout, stderr = runApp(t, context.Background(), "flow", "test", "--flows-dir", dir, failing, bad)
	wantOut := "=== " + failing + "\nok declined\nFAIL not approved: field result = declined, want approved\n2 scenario(s): 1 ok, 1 failed; 1 of 2 file(s) not run\n"
	if code != 1 || stdout != wantOut {
		t.Errorf("exit %d, stdout\n%s\nwant\n%s", code, stdout, wantOut)
	}
	if !strings.Contains(stderr, "posrt flow test: "+bad+":3: scenario \"x\": expect.reslt: the answer has no field reslt") ||
		!strings.Contains(stderr, "posrt flow test: 2 scenario(s): 1 ok, 1 failed; 1 of 2 file(s) not run") {
		t.Errorf("stderr %q", stderr)
	}

	// --flows-dir alone runs the directory's scenario files on its flows.
	if err := os.WriteFile(filepath.Join(dir, "sale.lua"), []byte("return function(ctx)\n  return nil, { code = \"closed\", message = \"the shop is closed\" }\nend\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = runApp(t, context.Background(), "flow", "test", "--flows-dir", dir)
	if code != 1 || !strings.Contains(stdout, "FAIL declined: field result = failed, want declined") {
		t.Errorf("the directory's flows: exit %d\n%s", code, stdout)
	}

	empty := t.TempDir()
	code, _, stderr = runApp(t, context.Background(), "flow", "test", "--flows-dir", empty)
	if code != 1 || !strings.Contains(stderr, "no scenario files (*_test.lua) in "+empty) {
		t.Errorf("no scenario files: exit %d, %q", code, stderr)
	}
	code, _, stderr = runApp(t, context.Background(), "flow", "test", filepath.Join(empty, "nope_test.lua"))
	if code != 1 || !strings.Contains(stderr, "posrt flow test: reading scenario file:") {
		t.Errorf("a missing file: exit %d, %q", code, stderr)
	}
}

// posrt flow check reads a scenario file as posrt flow test does.
func TestFlowCheckReadsScenarioFiles(t *testing.T) {
	good := writeFile(t, "sale_test.lua", "return {\n  { name = \"a\", op = { kind = \"sale\", amount = 1 }, expect = { result = \"approved\" } },\n}\n")
	bad := writeFile(t, "void_test.lua", "return {\n  { name = \"a\",\n    op = { kind = \"viod\" }, expect = {} },\n}\n")
	code, stdout, _ := runApp(t, context.Background(), "flow", "check", good, bad)
	want := good + ": ok\n" + bad + `:3: scenario "a": op.kind "viod": want one of sale, void, refund, cash, reprint, settle, signin, login, lock, protect, unprotect, clear, query, summary` + "\n"
	if code != 1 || stdout != want {
		t.Fatalf("exit %d\n%s\nwant\n%s", code, stdout, want)
	}
}
