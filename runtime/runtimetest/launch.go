package runtimetest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Process is a posrt started by Launch, which may die on its own (a crash
// point armed in its environment).
type Process struct {
	*Posrt
	// Done is closed once the process has exited and been reaped.
	Done <-chan struct{}
	err  error
}

// Launch starts bin with args and the extra environment env (KEY=VALUE,
// such as POSRT_CRASH_AT=txn.intent) and returns once posrt has announced
// its ECR API. Unlike StartPosrt it returns an error, and does not fail
// the test, when the process exits before announcing it (a crash point
// reached while it recovered at boot), or after 60 seconds. The process
// is killed when the test ends; its log is not shown (a crash suite starts
// hundreds: the caller shows the ones that matter).
func Launch(t testing.TB, bin string, env []string, args ...string) (*Process, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	// posrt leads a process group of its own, as under systemd or a shell,
	// so that a test can signal the whole group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), env...)
	p := &Process{Posrt: &Posrt{Cmd: cmd, Logs: &Buffer{}}}
	cmd.Stderr = p.Logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	p.Done = done
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	found := make(chan [2]string, 1)
	go func() {
		defer close(done)
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
		// Wait only once every read from the pipe is done.
		p.err = cmd.Wait()
	}()
	select {
	case got := <-found:
		p.Base, p.Token = "http://"+got[0], got[1]
		return p, nil
	case <-done:
		return p, fmt.Errorf("posrt exited before announcing its ECR API: %v", p.err)
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return p, errors.New("posrt did not announce its ECR API within 60s")
	}
}

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.Done:
		return true
	default:
		return false
	}
}

// Killed reports whether the process has exited because of SIGKILL; call
// it once Done is closed.
func (p *Process) Killed() bool {
	var exit *exec.ExitError
	if !errors.As(p.err, &exit) {
		return false
	}
	ws, ok := exit.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// Kill sends SIGKILL and waits until the process is reaped.
func (p *Process) Kill() {
	_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.Done
}

// Stop sends SIGTERM and waits up to timeout for a clean exit; it returns
// the exit error (nil for a clean stop).
func (p *Process) Stop(timeout time.Duration) error {
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.Done:
		return p.err
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("posrt did not stop within %v of SIGTERM", timeout)
	}
}
