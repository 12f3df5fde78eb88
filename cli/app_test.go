package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/runtime/runtimetest"
)

// The test binary doubles as posrt for the built-in plugins the app starts
// (it re-executes itself as "plugin serve NAME").
func TestMain(m *testing.M) {
	// The test binary serves the built-in plugins and the flow workers
	// as the posrt binary does.
	if len(os.Args) > 2 && (os.Args[1] == "plugin" && os.Args[2] == "serve" || os.Args[1] == "flow" && os.Args[2] == "worker") {
		os.Exit(ExitCode(NewApp(os.Stdin, os.Stdout, os.Stderr).Run(os.Args)))
	}
	os.Exit(m.Run())
}

// runApp runs the app in-process with args (after "posrt") and returns its
// exit code and output streams.
func runApp(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := NewApp(strings.NewReader(""), &out, &errOut).RunContext(ctx, append([]string{"posrt"}, args...))
	return ExitCode(err), out.String(), errOut.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Every bad input on the command line ends in a non-zero exit and one line
// that names the command and what is wrong, and creates no data directory.
func TestBadInputIsRefusedClearly(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	badTOML := writeFile(t, "bad.toml", "[terminal\n")
	unknownKey := writeFile(t, "unknown.toml", "[terminal]\ntid = \"12345678\"\ncolour = \"red\"\n")
	defaultProfile, err := os.ReadFile("../runtime/config/default.toml")
	if err != nil {
		t.Fatal(err)
	}
	unknownBuiltin := writeFile(t, "builtin.toml", strings.Replace(string(defaultProfile), `builtin = "fake-pinpad"`, `builtin = "fake-pinpadd"`, 1))
	for _, c := range []struct {
		name string
		args []string
		code int
		want []string // in stderr, or in stdout for usage errors
	}{
		{"missing config", []string{"run", "--config", "/nonexistent/posrt.toml", "--data-dir", dataDir}, 1, []string{"posrt run:", "/nonexistent/posrt.toml"}},
		{"config that does not parse", []string{"run", "--config", badTOML, "--data-dir", dataDir}, 1, []string{"posrt run:", badTOML, "toml: line"}},
		{"unknown config key", []string{"run", "--config", unknownKey, "--data-dir", dataDir}, 1, []string{"unknown keys", "colour"}},
		{"unknown built-in plugin", []string{"run", "--config", unknownBuiltin, "--data-dir", dataDir}, 1, []string{`no built-in plugin "fake-pinpadd"`, "fake-pinpad,"}},
		{"plugins list on a missing config", []string{"plugins", "list", "--config", "/nonexistent/posrt.toml", "--data-dir", dataDir}, 1, []string{"posrt plugins list:", "/nonexistent/posrt.toml"}},
		{"serving an unknown plugin", []string{"plugin", "serve", "nope"}, 2, []string{`no built-in plugin "nope"`, "fake-acquirer"}},
		{"unknown flag", []string{"run", "--bogus"}, 1, []string{"flag provided but not defined: -bogus", "--data-dir"}},
	} {
		code, stdout, stderr := runApp(t, context.Background(), c.args...)
		said := stderr
		if strings.HasPrefix(stdout, "Incorrect Usage") {
			said = stdout // urfave/cli prints a usage error with the usage, on stdout
		}
		if code != c.code {
			t.Errorf("%s: exit code %d, want %d (stderr %q)", c.name, code, c.code, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(said, w) {
				t.Errorf("%s: output %q lacks %q", c.name, said, w)
			}
		}
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Fatalf("a refused command left the data directory behind: %v", err)
	}
}

func TestBadECRAddressIsRefusedBeforeAnyPluginStarts(t *testing.T) {
	dataDir := t.TempDir()
	code, _, stderr := runApp(t, context.Background(), "run", "--headless", "--data-dir", dataDir, "--ecr-addr", "127.0.0.1:99999")
	if code != 1 || !strings.Contains(stderr, "serving the ECR API on 127.0.0.1:99999") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stderr, "plugin started") {
		t.Fatalf("plugins started although the ECR address was bad: %q", stderr)
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := runApp(t, context.Background(), "--version")
	if code != 0 || !strings.Contains(stdout, Version) {
		t.Fatalf("exit %d, stdout %q", code, stdout)
	}
}

// plugins list starts the default profile's simulators and its seven
// built-in plugins (the real channel plugins pointed at the simulators),
// prints one row each, and stops them.
func TestPluginsListPrintsTheDefaultProfile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, stdout, stderr := runApp(t, ctx, "plugins", "list", "--data-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 8 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("table:\n%s", stdout)
	}
	for i, want := range [][2]string{{"acquirer", "acquirer"}, {"alipay", "alipay"}, {"pinpad", "fake-pinpad"}, {"printer", "fake-printer"},
		{"scanner", "fake-scanner"}, {"unionpay-qr", "unionpay-qr"}, {"wechat", "wechat"}} {
		if f := strings.Fields(lines[i+1]); len(f) < 7 || f[0] != want[0] || f[2] != want[1] || f[6] != "idle" {
			t.Errorf("row %d = %q, want %s served by %s, idle", i+1, lines[i+1], want[0], want[1])
		}
	}
}

// The default data directory never depends on the working directory.
func TestDefaultDataDirIsFixed(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, c := range []struct {
		name  string
		given string
		env   map[string]string
		euid  int
		want  string
	}{
		{"root", "", nil, 0, "/var/lib/posrt"},
		{"user with XDG", "", map[string]string{"XDG_STATE_HOME": "/home/a/.state", "HOME": "/home/a"}, 1000, "/home/a/.state/posrt"},
		{"user", "", map[string]string{"HOME": "/home/a"}, 1000, "/home/a/.local/state/posrt"},
		{"relative XDG is ignored", "", map[string]string{"XDG_STATE_HOME": "state", "HOME": "/home/a"}, 1000, "/home/a/.local/state/posrt"},
	} {
		for _, wd := range []string{"/", t.TempDir()} {
			t.Chdir(wd)
			got, err := resolveDataDir(c.given, env(c.env), c.euid)
			if err != nil || got != c.want {
				t.Errorf("%s from %s: %q, %v; want %q", c.name, wd, got, err, c.want)
			}
		}
	}
	if _, err := resolveDataDir("", env(nil), 1000); err == nil {
		t.Error("no HOME and no --data-dir was accepted")
	}
	wd, _ := os.Getwd()
	if got, _ := resolveDataDir("data", env(nil), 0); got != filepath.Join(wd, "data") {
		t.Errorf("a given relative directory = %q, want it made absolute", got)
	}
}

// An ECR API bound beyond loopback is served, with a loud warning.
func TestECRBeyondLoopbackIsWarnedOf(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errOut runtimetest.Buffer
	app := NewApp(strings.NewReader(""), &out, &errOut)
	done := make(chan error, 1)
	go func() {
		done <- app.RunContext(ctx, []string{"posrt", "run", "--headless", "--data-dir", t.TempDir(), "--ecr-addr", "0.0.0.0:0"})
	}()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(out.String(), "ECR API on") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "THE ECR API LISTENS BEYOND LOOPBACK") {
		t.Fatalf("no warning for an API on 0.0.0.0:\n%s", errOut.String())
	}
}
