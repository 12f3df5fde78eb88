package powerloss_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/posrt/posrt/runtime/runtimetest/powerloss"
)

func mustWrite(t *testing.T, path string, data []byte, sync bool) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func syncDir(t *testing.T, dir string) {
	t.Helper()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		t.Fatalf("syncing %s: %v", dir, err)
	}
}

func cut(t *testing.T, fs *powerloss.FS) {
	t.Helper()
	if err := fs.Cut(context.Background()); err != nil {
		t.Fatalf("cutting power: %v", err)
	}
}

// content returns a file's content, or nil when it does not exist.
func content(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAvailable(t *testing.T) {
	if err := powerloss.Available(); err != nil {
		t.Fatalf("the power-loss emulator cannot run here: %v", err)
	}
}

func TestUnsyncedWriteIsVisibleThenLost(t *testing.T) {
	disk := t.TempDir()
	fs := powerloss.MountT(t, disk, powerloss.Options{})
	p := filepath.Join(fs.Dir(), "a")
	mustWrite(t, p, []byte("hello"), false)
	if got := content(t, p); string(got) != "hello" {
		t.Fatalf("before the cut a reader sees %q, want hello", got)
	}
	cut(t, fs)
	fs = powerloss.MountT(t, disk, powerloss.Options{})
	if got := content(t, filepath.Join(fs.Dir(), "a")); got != nil {
		t.Fatalf("an unsynced file survived the cut with %q", got)
	}
}

func TestSyncedWriteSurvives(t *testing.T) {
	disk := t.TempDir()
	fs := powerloss.MountT(t, disk, powerloss.Options{})
	p := filepath.Join(fs.Dir(), "a")
	mustWrite(t, p, []byte("synced"), true)
	// An overwrite that is not synced is lost, the synced content stays.
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("LOST"), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cut(t, fs)
	fs = powerloss.MountT(t, disk, powerloss.Options{})
	if got := content(t, filepath.Join(fs.Dir(), "a")); string(got) != "synced" {
		t.Fatalf("after the cut the file holds %q, want synced", got)
	}
}

func TestTruncateThenSyncZeroes(t *testing.T) {
	disk := t.TempDir()
	fs := powerloss.MountT(t, disk, powerloss.Options{})
	p := filepath.Join(fs.Dir(), "a")
	mustWrite(t, p, bytes.Repeat([]byte("A"), 100), true)
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int64{10, 100} {
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cut(t, fs)
	fs = powerloss.MountT(t, disk, powerloss.Options{})
	want := append(bytes.Repeat([]byte("A"), 10), make([]byte, 90)...)
	if got := content(t, filepath.Join(fs.Dir(), "a")); !bytes.Equal(got, want) {
		t.Fatalf("after truncate, extend and sync the file holds %q, want %q", got, want)
	}
}

// The rename pattern every journal uses: write a temporary file, sync it,
// rename it over the real name, sync the directory.
func TestRenameDurableOnlyAfterDirSync(t *testing.T) {
	for _, strict := range []bool{false, true} {
		name := "ext4"
		if strict {
			name = "strict"
		}
		t.Run(name, func(t *testing.T) {
			opts := powerloss.Options{StrictDirSync: strict}
			disk := t.TempDir()
			fs := powerloss.MountT(t, disk, opts)
			dir := filepath.Join(fs.Dir(), "d")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			syncDir(t, fs.Dir())
			mustWrite(t, filepath.Join(dir, "tmp"), []byte("v1"), true)
			syncDir(t, dir)
			if err := os.Rename(filepath.Join(dir, "tmp"), filepath.Join(dir, "final")); err != nil {
				t.Fatal(err)
			}
			if strict {
				// An fsync of another file does not carry the rename.
				mustWrite(t, filepath.Join(fs.Dir(), "other"), []byte("x"), true)
			}
			cut(t, fs)

			fs = powerloss.MountT(t, disk, opts)
			dir = filepath.Join(fs.Dir(), "d")
			if got := content(t, filepath.Join(dir, "tmp")); string(got) != "v1" {
				t.Fatalf("the unsynced rename: tmp holds %q, want v1", got)
			}
			if got := content(t, filepath.Join(dir, "final")); got != nil {
				t.Fatalf("the unsynced rename survived: final holds %q", got)
			}
			if err := os.Rename(filepath.Join(dir, "tmp"), filepath.Join(dir, "final")); err != nil {
				t.Fatal(err)
			}
			syncDir(t, dir)
			cut(t, fs)

			fs = powerloss.MountT(t, disk, opts)
			dir = filepath.Join(fs.Dir(), "d")
			if got := content(t, filepath.Join(dir, "final")); string(got) != "v1" {
				t.Fatalf("the synced rename: final holds %q, want v1", got)
			}
			if got := content(t, filepath.Join(dir, "tmp")); got != nil {
				t.Fatalf("the synced rename left tmp holding %q", got)
			}
		})
	}
}

func TestStrictNewFileNeedsDirSync(t *testing.T) {
	opts := powerloss.Options{StrictDirSync: true}
	disk := t.TempDir()
	fs := powerloss.MountT(t, disk, opts)
	mustWrite(t, filepath.Join(fs.Dir(), "a"), []byte("data"), true)
	cut(t, fs)
	fs = powerloss.MountT(t, disk, opts)
	if got := content(t, filepath.Join(fs.Dir(), "a")); got != nil {
		t.Fatalf("a new file whose directory was never synced survived with %q", got)
	}
}

func TestSharedMmapDurableAfterMsync(t *testing.T) {
	disk := t.TempDir()
	fs := powerloss.MountT(t, disk, powerloss.Options{})
	write := func(name string, msync bool) {
		f, err := os.Create(filepath.Join(fs.Dir(), name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(8192); err != nil {
			t.Fatal(err)
		}
		m, err := unix.Mmap(int(f.Fd()), 0, 8192, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			t.Fatalf("mapping a file shared and writable: %v", err)
		}
		defer unix.Munmap(m)
		copy(m[4096:], name)
		if msync {
			if err := unix.Msync(m, unix.MS_SYNC); err != nil {
				t.Fatalf("msync: %v", err)
			}
		}
		syncDir(t, fs.Dir()) // the names are durable, only the data differs
	}
	write("synced", true)
	write("unsynced", false)
	cut(t, fs)
	fs = powerloss.MountT(t, disk, powerloss.Options{})
	if got := content(t, filepath.Join(fs.Dir(), "synced")); len(got) != 8192 || !bytes.Equal(got[4096:4102], []byte("synced")) {
		t.Fatalf("the msync'd mapping was lost: the file has %d bytes, want 8192 with synced at 4096", len(got))
	}
	// The name and the size truncate(2) set are durable (journaled
	// metadata), the data is not: the file is there and all zeros.
	if got, err := os.ReadFile(filepath.Join(fs.Dir(), "unsynced")); err != nil || !bytes.Equal(got, make([]byte, 8192)) {
		t.Fatalf("the mapping never synced left %d bytes (%v), want 8192 zero bytes", len(got), err)
	}
}

func TestOpenFileAnswersEIOAfterCut(t *testing.T) {
	disk := t.TempDir()
	fs := powerloss.MountT(t, disk, powerloss.Options{})
	f, err := os.Create(filepath.Join(fs.Dir(), "a"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cut(t, fs)
	if _, err := f.WriteAt([]byte("x"), 0); !errors.Is(err, syscall.EIO) {
		t.Fatalf("a write after the cut returned %v, want EIO", err)
	}
	buf := make([]byte, 1)
	if _, err := f.ReadAt(buf, 0); !errors.Is(err, syscall.EIO) {
		t.Fatalf("a read after the cut returned %v, want EIO", err)
	}
	if err := f.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("an fsync after the cut returned %v, want EIO", err)
	}
}

func TestUnmountKeepsEverything(t *testing.T) {
	disk := t.TempDir()
	fs := powerloss.MountT(t, disk, powerloss.Options{})
	if err := os.MkdirAll(filepath.Join(fs.Dir(), "x", "y"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(fs.Dir(), "x", "y", "a"), []byte("kept"), false)
	if err := fs.Unmount(context.Background()); err != nil {
		t.Fatalf("unmounting: %v", err)
	}
	fs = powerloss.MountT(t, disk, powerloss.Options{})
	if got := content(t, filepath.Join(fs.Dir(), "x", "y", "a")); string(got) != "kept" {
		t.Fatalf("after an orderly unmount the file holds %q, want kept", got)
	}
}

func TestUnmountRefusedWhileOpen(t *testing.T) {
	disk := t.TempDir()
	fs := powerloss.MountT(t, disk, powerloss.Options{})
	f, err := os.Create(filepath.Join(fs.Dir(), "a"))
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Unmount(context.Background()); err == nil {
		t.Fatal("unmount succeeded with a file open")
	}
	if _, err := f.Write([]byte("still mounted")); err != nil {
		t.Fatalf("the mount stopped working after a refused unmount: %v", err)
	}
	f.Close()
}
