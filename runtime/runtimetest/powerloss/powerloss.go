package powerloss

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// Options choose the durability rule of a mount.
type Options struct {
	// StrictDirSync makes a directory's entries (creates, renames,
	// unlinks, mkdirs in it) durable only when that very directory is
	// fsync'd, as POSIX promises and no more. When false (the default) the
	// mount behaves like ext4 with its metadata journal: any fsync or
	// fdatasync, of a file or a directory, commits the whole name space as
	// it is at that moment, and the data of the file it was called on.
	StrictDirSync bool
}

// FS is one mount of the emulated disk.
type FS struct {
	dir    string // the mount point
	cache  string // the page cache: the live state readers see
	opts   Options
	server *fuse.Server
	cut    atomic.Bool // set by Cut: every request answers EIO

	mu     sync.Mutex
	closed bool
	disk   *disk
	ids    map[uint64]objectID   // cache inode -> durable object
	dirty  map[uint64]*dirtyFile // cache inode -> ranges not yet synced
}

// waitDetached bounds how long Cut waits for the kernel to let go of a
// detached mount; a process that still holds a file open keeps it (and
// the goroutines serving it) alive, answering EIO, until it closes it.
const waitDetached = time.Second

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

// Mount mounts the emulated disk kept in backingDir (created when empty) at
// mountDir, showing exactly what was durable when it was last cut or
// unmounted. ctx bounds nothing yet; it is there for the convention.
func Mount(ctx context.Context, mountDir, backingDir string, opts Options) (*FS, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	d, err := openDisk(backingDir)
	if err != nil {
		return nil, err
	}
	cache, err := os.MkdirTemp("", "powerloss-cache-")
	if err != nil {
		return nil, fmt.Errorf("creating the page cache: %w", err)
	}
	ids, err := d.materialize(cache)
	if err != nil {
		os.RemoveAll(cache)
		return nil, err
	}
	f := &FS{dir: mountDir, cache: cache, opts: opts, disk: d, ids: ids, dirty: map[uint64]*dirtyFile{}}
	loop, err := gofs.NewLoopbackRoot(cache)
	if err != nil {
		os.RemoveAll(cache)
		return nil, fmt.Errorf("opening the page cache: %w", err)
	}
	ln := loop.(*gofs.LoopbackNode)
	root := &node{LoopbackNode: ln, fs: f}
	ln.RootData.RootNode = root
	second := time.Second
	raw := gofs.NewNodeFS(root, &gofs.Options{EntryTimeout: &second, AttrTimeout: &second})
	mo := fuse.MountOptions{
		FsName:            "powerloss",
		Name:              "powerloss",
		DirectMountStrict: os.Geteuid() == 0, // root mounts with mount(2), no fusermount
		MaxWrite:          1 << 20,
	}
	f.server, err = fuse.NewServer(&cutFS{RawFileSystem: raw, cut: &f.cut}, mountDir, &mo)
	if err != nil {
		os.RemoveAll(cache)
		return nil, fmt.Errorf("mounting at %s: %w", mountDir, err)
	}
	go f.server.Serve()
	if err := f.server.WaitMount(); err != nil {
		f.server.Unmount()
		os.RemoveAll(cache)
		return nil, fmt.Errorf("waiting for the mount at %s: %w", mountDir, err)
	}
	return f, nil
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
// answers EIO. A fresh Mount over the same backing directory shows the
// synced state. Cut after Cut or Unmount does nothing.
func (f *FS) Cut(ctx context.Context) error {
	f.cut.Store(true)
	f.mu.Lock() // waits for a commit under way; none starts after this
	closed := f.closed
	f.closed = true
	f.mu.Unlock()
	if closed {
		return nil
	}
	defer os.RemoveAll(f.cache)
	if err := unix.Unmount(f.dir, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching %s: %w", f.dir, err)
	}
	done := make(chan struct{})
	go func() { f.server.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(waitDetached):
	case <-ctx.Done():
	}
	return nil
}

// Unmount is an orderly unmount: the kernel writes back its dirty pages,
// then everything the mount shows becomes durable, as an orderly unmount of
// a real disk flushes the page cache. Like umount(2) it fails while a file
// is open (or mapped) on the mount, which then stays mounted.
func (f *FS) Unmount(ctx context.Context) error {
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed {
		return errors.New("unmounting: already cut or unmounted")
	}
	if err := f.server.Unmount(); err != nil {
		return fmt.Errorf("unmounting %s: %w", f.dir, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	defer os.RemoveAll(f.cache)
	return f.persistAllLocked()
}

// persistAllLocked makes every file's data and the whole name space durable.
func (f *FS) persistAllLocked() error {
	err := filepath.WalkDir(f.cache, func(p string, de os.DirEntry, err error) error {
		if err != nil || !de.Type().IsRegular() {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		if f.dirty[st.Ino] == nil {
			return nil
		}
		fd, err := syscall.Open(p, syscall.O_RDONLY, 0)
		if err != nil {
			return err
		}
		defer syscall.Close(fd)
		return f.syncDataLocked(st.Ino, fd)
	})
	if err != nil {
		return fmt.Errorf("flushing the page cache: %w", err)
	}
	return f.commitAllLocked()
}

// idLocked returns the durable object of cache inode ino, naming a new one
// the first time the inode is seen.
func (f *FS) idLocked(ino uint64) objectID {
	id, ok := f.ids[ino]
	if !ok {
		id = f.disk.tree.Next
		f.disk.tree.Next++
		f.ids[ino] = id
	}
	return id
}

// fresh records that ino was just created: whatever the inode number meant
// before (inode numbers are reused) it is a new, empty object now.
func (f *FS) fresh(ino uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.ids, ino)
	f.dirty[ino] = &dirtyFile{truncTo: 0}
}

func (f *FS) wrote(ino uint64, off, end int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dirtyLocked(ino).add(off, end)
}

func (f *FS) truncated(ino uint64, size int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.dirtyLocked(ino)
	if d.truncTo < 0 || size < d.truncTo {
		d.truncTo = size
	}
}

func (f *FS) dirtyLocked(ino uint64) *dirtyFile {
	d := f.dirty[ino]
	if d == nil {
		d = &dirtyFile{truncTo: -1}
		f.dirty[ino] = d
	}
	return d
}

// syncFile is fsync(2) or fdatasync(2) on the file ino, open as fd.
func (f *FS) syncFile(ino uint64, fd int) syscall.Errno {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cut.Load() {
		return syscall.EIO
	}
	if err := f.syncDataLocked(ino, fd); err != nil {
		return gofs.ToErrno(err)
	}
	if !f.opts.StrictDirSync {
		return gofs.ToErrno(f.commitAllLocked())
	}
	return 0
}

// syncDir is fsync(2) on the directory ino at path in the cache.
func (f *FS) syncDir(ino uint64, path string) syscall.Errno {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cut.Load() {
		return syscall.EIO
	}
	if !f.opts.StrictDirSync {
		return gofs.ToErrno(f.commitAllLocked())
	}
	m, err := f.listLocked(path)
	if err != nil {
		return gofs.ToErrno(err)
	}
	f.disk.tree.Dirs[f.idLocked(ino)] = m
	return gofs.ToErrno(f.disk.save())
}

// syncDataLocked copies the unsynced ranges of ino from the cache into its
// durable object.
func (f *FS) syncDataLocked(ino uint64, fd int) error {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return err
	}
	obj, err := os.OpenFile(f.disk.objectPath(f.idLocked(ino)), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer obj.Close()
	d := f.dirty[ino]
	if d != nil && d.truncTo >= 0 {
		if err := obj.Truncate(d.truncTo); err != nil {
			return err
		}
	}
	if err := obj.Truncate(st.Size); err != nil {
		return err
	}
	if d != nil {
		buf := make([]byte, 1<<20)
		for _, s := range d.spans {
			for off := s.off; off < min(s.end, st.Size); {
				n, err := syscall.Pread(fd, buf[:min(int64(len(buf)), min(s.end, st.Size)-off)], off)
				if err != nil {
					return err
				}
				if n == 0 {
					break
				}
				if _, err := obj.WriteAt(buf[:n], off); err != nil {
					return err
				}
				off += int64(n)
			}
		}
	}
	delete(f.dirty, ino)
	return obj.Close()
}

// commitAllLocked makes the name space durable as the cache shows it now.
func (f *FS) commitAllLocked() error {
	dirs := map[objectID]map[string]entry{}
	var rec func(path string, id objectID) error
	rec = func(path string, id objectID) error {
		m, err := f.listLocked(path)
		if err != nil {
			return err
		}
		dirs[id] = m
		for name, e := range m {
			if e.Dir {
				if err := rec(filepath.Join(path, name), e.ID); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := rec(f.cache, rootID); err != nil {
		return fmt.Errorf("committing the name space: %w", err)
	}
	f.disk.tree.Dirs = dirs
	return f.disk.save()
}

// listLocked reads one cache directory as durable entries. Only regular
// files and directories are kept.
func (f *FS) listLocked(path string) (map[string]entry, error) {
	des, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	m := make(map[string]entry, len(des))
	for _, de := range des {
		if !de.Type().IsRegular() && !de.IsDir() {
			continue
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(path, de.Name()), &st); err != nil {
			if errors.Is(err, syscall.ENOENT) {
				continue // removed while we listed
			}
			return nil, err
		}
		m[de.Name()] = entry{ID: f.idLocked(st.Ino), Dir: de.IsDir(), Mode: st.Mode & 0o7777}
	}
	return m, nil
}

// maxSpans bounds the memory one file's unsynced ranges take: past it the
// ranges collapse into one that covers them all (a sync then copies more).
const maxSpans = 64

type span struct{ off, end int64 }

// dirtyFile is what a sync must copy for one file.
type dirtyFile struct {
	truncTo int64 // the smallest size the file was cut to since its last sync; -1: none
	spans   []span
}

func (d *dirtyFile) add(off, end int64) {
	if end <= off {
		return
	}
	out := d.spans[:0:0]
	for _, s := range d.spans {
		if s.end < off || end < s.off {
			out = append(out, s)
			continue
		}
		off, end = min(off, s.off), max(end, s.end)
	}
	out = append(out, span{off, end})
	if len(out) > maxSpans {
		all := out[0]
		for _, s := range out[1:] {
			all = span{min(all.off, s.off), max(all.end, s.end)}
		}
		out = []span{all}
	}
	d.spans = out
}
