package scenario_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/posrt/posrt/cli"
	"github.com/posrt/posrt/flows"
	"github.com/posrt/posrt/runtime/flowcheck"
	"github.com/posrt/posrt/runtime/scenario"
)

const walkThrough = "../../docs/customising-flows.md"

// snippets are the code blocks of the walk-through marked
// <!-- snippet: NAME -->, by name.
func snippets(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile(walkThrough)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- snippet: ([^>]+?) -->\n```[a-z]*\n(.*?)```")
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(doc), -1) {
		if _, dup := out[m[1]]; dup {
			t.Fatalf("snippet %q twice in %s", m[1], walkThrough)
		}
		out[m[1]] = m[2]
	}
	for _, name := range []string{"receipts.lua before", "receipts.lua after", "sale.lua before", "sale.lua after", "sale_test.lua", "output", "failure", "bad kind"} {
		if out[name] == "" {
			t.Fatalf("%s has no snippet %q", walkThrough, name)
		}
	}
	return out
}

// The walk-through's two changes, applied exactly as it shows them to
// copies of the default flows, check clean, and its scenarios pass on
// them through posrt flow test with the output it shows; on the
// unchanged defaults the same scenarios fail.
func TestCustomisingFlowsWalkThrough(t *testing.T) {
	s := snippets(t)
	dir := t.TempDir()
	apply := func(file string) string {
		src, err := fs.ReadFile(flows.Default, file)
		if err != nil {
			t.Fatal(err)
		}
		before, after := s[file+" before"], s[file+" after"]
		if n := strings.Count(string(src), before); n != 1 {
			t.Fatalf("the walk-through's %s before is in the default %d times, want once:\n%s", file, n, before)
		}
		changed := strings.Replace(string(src), before, after, 1)
		if err := os.WriteFile(filepath.Join(dir, file), []byte(changed), 0o600); err != nil {
			t.Fatal(err)
		}
		return changed
	}
	apply("receipts.lua")
	sale := apply("sale.lua")
	// The rule comes before the customer is asked to pay.
	if r, c := strings.Index(sale, "amount_too_small"), strings.Index(sale, "= presented(ctx)"); r < 0 || c < r {
		t.Fatalf("the minimum-amount rule is not before the card or code is asked for:\n%s", sale)
	}
	if err := os.WriteFile(filepath.Join(dir, "sale_test.lua"), []byte(s["sale_test.lua"]), 0o600); err != nil {
		t.Fatal(err)
	}

	// posrt flow check: both files clean.
	entries, err := flowcheck.List(flows.Default, dir)
	if err != nil {
		t.Fatal(err)
	}
	checker, err := flowcheck.NewChecker(context.Background(), flowcheck.Libraries(entries))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"receipts.lua", "sale.lua"} {
		src, _ := os.ReadFile(filepath.Join(dir, f))
		if ps := checker.Check(f, src); len(ps) > 0 {
			t.Errorf("posrt flow check %s: %v", f, ps)
		}
	}

	// posrt flow test --flows-dir DIR prints what the walk-through shows.
	var out, errOut bytes.Buffer
	err = cli.NewApp(strings.NewReader(""), &out, &errOut).RunContext(context.Background(), []string{"posrt", "flow", "test", "--flows-dir", dir})
	want := strings.ReplaceAll(s["output"], "/etc/posrt/flows", dir)
	if err != nil || out.String() != want {
		t.Fatalf("posrt flow test: %v\n%s%s\nwant\n%s", err, out.String(), errOut.String(), want)
	}

	// The same scenarios on the defaults: the rule and the footer are
	// what makes them pass.
	f, err := scenario.Parse(context.Background(), "sale_test.lua", []byte(s["sale_test.lua"]))
	if err != nil {
		t.Fatal(err)
	}
	outcomes, err := scenario.RunFile(context.Background(), options(t, ""), f)
	if err != nil {
		t.Fatal(err)
	}
	for i, oc := range outcomes {
		if oc.OK() {
			t.Errorf("scenario %d passes on the default flows: %s", i+1, oc)
		}
	}
}

// The walk-through's failure and its bad file say what the runner says.
func TestCustomisingFlowsMessages(t *testing.T) {
	s := snippets(t)
	dir := t.TempDir()
	for _, f := range []string{"receipts.lua", "sale.lua"} {
		src, _ := fs.ReadFile(flows.Default, f)
		changed := strings.Replace(string(src), s[f+" before"], s[f+" after"], 1)
		if err := os.WriteFile(filepath.Join(dir, f), []byte(changed), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	second := `kind = "sale", amount = 100 }`
	if strings.Count(s["sale_test.lua"], second) != 1 {
		t.Fatalf("the walk-through's second scenario has no %s", second)
	}
	declined := strings.Replace(s["sale_test.lua"], second, `kind = "sale", amount = 151 }`, 1)
	f, err := scenario.Parse(context.Background(), "sale_test.lua", []byte(declined))
	if err != nil {
		t.Fatal(err)
	}
	outcomes, err := scenario.RunFile(context.Background(), options(t, dir), f)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := outcomes[1].String(), strings.TrimSpace(s["failure"]); got != want {
		t.Errorf("the failure:\n got %s\nwant %s", got, want)
	}

	bad := filepath.Join(dir, "sale_test.lua")
	if err := os.WriteFile(bad, []byte(strings.Replace(s["sale_test.lua"], second, `kind = "sael", amount = 100 }`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = cli.NewApp(strings.NewReader(""), &out, &errOut).RunContext(context.Background(), []string{"posrt", "flow", "test", "--flows-dir", dir})
	want := strings.ReplaceAll(s["bad kind"], "/etc/posrt/flows", dir)
	if cli.ExitCode(err) != 1 || !strings.HasPrefix(errOut.String(), want) {
		t.Errorf("a bad scenario file: exit %d\n%s\nwant\n%s", cli.ExitCode(err), errOut.String(), want)
	}
}
