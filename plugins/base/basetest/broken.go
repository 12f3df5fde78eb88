package basetest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Broken is an implementation a conformance suite must fail: the harness
// that describes it to the suite, and the step the suite must fail at.
type Broken[H any] struct {
	Harness H
	Step    string
}

// brokenEnv names, in the child processes RunBroken starts, the broken
// implementation to run the suite on.
const brokenEnv = "PLUGINTEST_BROKEN"

// RunBroken checks that suite, a kind's RunConformance, fails each of
// broken at its step. For each it runs t's test again in a child process of
// the test binary, where suite runs on that implementation, and reads the
// child's verbose output. what names the kind in failures, such as "a
// printer". t must be a top-level test, and call RunBroken first.
func RunBroken[H any](t *testing.T, what string, broken map[string]Broken[H], suite func(*testing.T, H)) {
	if name := os.Getenv(brokenEnv); name != "" {
		b, ok := broken[name]
		if !ok {
			t.Fatalf("%s=%q names no broken implementation", brokenEnv, name)
		}
		suite(t, b.Harness)
		return
	}
	test := t.Name()
	if strings.Contains(test, "/") {
		t.Fatalf("RunBroken called from subtest %s, not from a top-level test", test)
	}
	for name, b := range broken {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"="+name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("RunConformance passed %s that %s", what, name)
			}
			if !strings.Contains(string(out), "--- FAIL: "+test+"/"+b.Step+" (") {
				t.Errorf("RunConformance on %s that %s did not fail at step %s:\n%s", what, name, b.Step, failures(out))
			}
		})
	}
}

// failures keeps the lines of a test output that tell what failed.
func failures(out []byte) string {
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "FAIL") || strings.Contains(l, ".go:") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
