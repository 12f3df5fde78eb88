package runtimetest

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Buffer is a bytes.Buffer safe for a process's output and a test's reads.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// WaitFor polls cond until it holds, failing the test after 30 seconds.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Build compiles the Go package pkg (an import path of this module) into a
// fresh temporary directory and returns the executable's path.
func Build(pkg string) (string, error) {
	dir, err := os.MkdirTemp("", "posrt-test-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, filepath.Base(pkg))
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin, nil
}

// Posrt is a `posrt run` process started by a test.
type Posrt struct {
	Cmd *exec.Cmd
	// Base is the ECR API's base URL, e.g. http://127.0.0.1:40123.
	Base string
	// Logs collects the process's standard error.
	Logs *Buffer
	// Token is the ECR API's bearer token, read from the file posrt names
	// when it starts.
	Token string
}

var (
	ecrLine   = regexp.MustCompile(`ECR API on http://(\S+)`)
	tokenLine = regexp.MustCompile(`token in (/\S+)`)
)

// Do sends an authorized request to the ECR API; body is JSON or empty.
func (p *Posrt) Do(method, path, body string) (*http.Response, error) {
	req, err := http.NewRequest(method, p.Base+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+p.Token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return http.DefaultClient.Do(req)
}

// StartPosrt starts bin with args, which must run posrt with an ECR API,
// and returns once posrt has announced the API's address. The process is
// killed when the test ends; its log is shown if the test failed.
func StartPosrt(t testing.TB, bin string, args ...string) *Posrt {
	t.Helper()
	cmd := exec.Command(bin, args...)
	// posrt leads a process group of its own, as under systemd or a shell,
	// so that a test can signal the whole group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &Posrt{Cmd: cmd, Logs: &Buffer{}}
	cmd.Stderr = p.Logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("posrt log:\n%s", p.Logs.String())
		}
	})
	found := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := ecrLine.FindStringSubmatch(sc.Text()); m != nil {
				var token string
				if tm := tokenLine.FindStringSubmatch(sc.Text()); tm != nil {
					b, _ := os.ReadFile(tm[1])
					token = strings.TrimSpace(string(b))
				}
				found <- [2]string{m[1], token}
			}
		}
	}()
	select {
	case got := <-found:
		p.Base, p.Token = "http://"+got[0], got[1]
	case <-time.After(60 * time.Second):
		t.Fatalf("posrt did not announce its ECR API; log:\n%s", p.Logs.String())
	}
	return p
}

// FlowWorkers lists the pids of the flow workers (`posrt flow worker`
// children) of the posrt process pid.
func FlowWorkers(pid int) []int {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	var out []int
	for _, dir := range procs {
		cmd, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil || !strings.Contains(string(cmd), "flow\x00worker") {
			continue
		}
		st, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		fields := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
		if len(fields) > 1 && fields[1] == fmt.Sprint(pid) {
			var child int
			fmt.Sscan(filepath.Base(dir), &child)
			out = append(out, child)
		}
	}
	return out
}
