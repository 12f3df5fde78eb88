package powerloss

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// The FUSE server runs in a child process, the running binary started
// again with serveEnv set: a process that both serves a FUSE mount and
// maps its files deadlocks in the kernel (a page fault of the mapping
// waits for a server thread that waits for the faulting process's memory
// lock), and badger maps its files. The init below turns such a child into
// the server before anything else of the binary runs.
const serveEnv = "POSRT_POWERLOSS_SERVE"

type serveArgs struct {
	Mount, Backing string
	Opts           Options
}

func init() {
	if a := os.Getenv(serveEnv); a != "" {
		os.Exit(serve(a))
	}
}

// serve runs the server: it answers "ready" (or "err ...") once mounted,
// then one line per command read: "cut" or "unmount". When the parent goes
// away it cuts the power.
func serve(a string) int {
	var args serveArgs
	if err := json.Unmarshal([]byte(a), &args); err != nil {
		fmt.Println("err decoding the server's arguments:", err)
		return 2
	}
	m, err := mountHere(args.Mount, args.Backing, args.Opts)
	if err != nil {
		fmt.Println("err", oneLine(err))
		return 1
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "cut":
			reply(m.cut())
			m.wait() // a file still open keeps the detached mount, answering EIO
			return 0
		case "unmount":
			err := m.unmount()
			reply(err)
			if err == nil {
				m.wait()
				return 0
			}
		default:
			fmt.Println("err unknown command", in.Text())
		}
	}
	m.cut()
	m.wait()
	return 0
}

func reply(err error) {
	if err != nil {
		fmt.Println("err", oneLine(err))
		return
	}
	fmt.Println("ok")
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }

// Available reports why this machine cannot mount the emulator, or nil.
func Available() error {
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("opening /dev/fuse (FUSE is needed for the power-loss emulator): %w", err)
	}
	f.Close()
	if os.Geteuid() != 0 {
		if _, err := exec.LookPath("fusermount3"); err != nil {
			return fmt.Errorf("finding fusermount3, which mounting FUSE needs when not root (apt-get install fuse3): %w", err)
		}
	}
	return nil
}

// FS is one mount of the emulated disk.
type FS struct {
	dir string

	mu   sync.Mutex
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
	done bool // cut or unmounted
}

// Mount mounts the emulated disk kept in backingDir (created when empty) at
// mountDir, showing exactly what was durable when it was last cut or
// unmounted. The mount is served by a child process (see serveEnv).
func Mount(ctx context.Context, mountDir, backingDir string, opts Options) (*FS, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the binary to serve the mount: %w", err)
	}
	a, err := json.Marshal(serveArgs{Mount: mountDir, Backing: backingDir, Opts: opts})
	if err != nil {
		return nil, fmt.Errorf("encoding the server's arguments: %w", err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), serveEnv+"="+string(a))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("piping to the server: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("piping from the server: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the server: %w", err)
	}
	f := &FS{dir: mountDir, cmd: cmd, in: in, out: bufio.NewScanner(out)}
	if err := f.answer(); err != nil {
		in.Close()
		cmd.Wait()
		return nil, fmt.Errorf("mounting at %s: %w", mountDir, err)
	}
	return f, nil
}

// answer reads the server's reply to the last command.
func (f *FS) answer() error {
	if !f.out.Scan() {
		return errors.New("the power-loss server ended without answering")
	}
	switch line := f.out.Text(); {
	case line == "ok" || line == "ready":
		return nil
	case strings.HasPrefix(line, "err "):
		return errors.New(strings.TrimPrefix(line, "err "))
	default:
		return fmt.Errorf("the power-loss server answered %q", line)
	}
}

func (f *FS) command(c string) error {
	if _, err := fmt.Fprintln(f.in, c); err != nil {
		return fmt.Errorf("telling the server to %s: %w", c, err)
	}
	return f.answer()
}

// MountT mounts the disk kept in backingDir at a fresh t.TempDir() and cuts
// its power when the test ends, so no mount outlives the test. It fails the
// test loudly when FUSE cannot be used.
func MountT(t testing.TB, backingDir string, opts Options) *FS {
	t.Helper()
	f, err := Mount(context.Background(), t.TempDir(), backingDir, opts)
	if err != nil {
		t.Fatalf("mounting the power-loss emulator: %v", err)
	}
	t.Cleanup(func() {
		if err := f.Cut(context.Background()); err != nil {
			t.Errorf("cutting power at cleanup: %v", err)
		}
		if mounted(f.dir) {
			t.Errorf("%s is still mounted after the test", f.dir)
		}
	})
	return f
}

// mounted reports whether dir is a mount point in /proc/mounts.
func mounted(dir string) bool {
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if fields := strings.Fields(line); len(fields) > 1 && fields[1] == dir {
			return true
		}
	}
	return false
}

// Dir returns the mount point.
func (f *FS) Dir() string { return f.dir }

// Cut simulates a power cut: every write not yet synced is lost, the mount
// is detached, and every request still arriving on a file that was open
// there (a read, a write, an fsync, a page fault of a mapping) answers EIO.
// A fresh Mount over the same backing directory shows the synced state.
// Cut after Cut or Unmount does nothing.
func (f *FS) Cut(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return nil
	}
	f.done = true
	err := f.command("cut")
	f.in.Close()
	go f.cmd.Wait() // the server lives on while a file of the cut mount is open
	if err != nil {
		return fmt.Errorf("cutting power: %w", err)
	}
	return nil
}

// Unmount is an orderly unmount: the kernel writes back its dirty pages,
// then everything the mount shows becomes durable, as an orderly unmount of
// a real disk flushes the page cache. Like umount(2) it fails while a file
// is open (or mapped) on the mount, which then stays mounted.
func (f *FS) Unmount(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return errors.New("unmounting: already cut or unmounted")
	}
	if err := f.command("unmount"); err != nil {
		return err
	}
	f.done = true
	f.in.Close()
	if err := f.cmd.Wait(); err != nil {
		return fmt.Errorf("waiting for the server: %w", err)
	}
	return nil
}
