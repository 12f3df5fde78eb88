package cli

import (
	"context"
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
