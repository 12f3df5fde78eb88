package powerloss

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
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

// mount is the FUSE server of one mount of the emulated disk. It runs in
// a process of its own (see process.go).
type mount struct {
	dir    string // the mount point
	cache  string // the page cache: the live state readers see
	opts   Options
	server *fuse.Server
	isCut  atomic.Bool // set by Cut: every request answers EIO

	mu     sync.Mutex
	closed bool
	disk   *disk
	ids    map[uint64]objectID   // cache inode -> durable object
	dirty  map[uint64]*dirtyFile // cache inode -> ranges not yet synced
}

// mountHere mounts the emulated disk kept in backingDir at mountDir, served
// by this process.
func mountHere(mountDir, backingDir string, opts Options) (*mount, error) {
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
	f := &mount{dir: mountDir, cache: cache, opts: opts, disk: d, ids: ids, dirty: map[uint64]*dirtyFile{}}
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
	f.server, err = fuse.NewServer(&cutFS{RawFileSystem: raw, cut: &f.isCut}, mountDir, &mo)
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

// cut drops what is not synced, answers EIO from now on and detaches the
// mount; it does not wait for the kernel to let go of it.
func (f *mount) cut() error {
	f.isCut.Store(true)
	f.mu.Lock() // waits for a commit under way; none starts after this
	closed := f.closed
	f.closed = true
	f.mu.Unlock()
	if closed {
		return nil
	}
	if err := unix.Unmount(f.dir, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching %s: %w", f.dir, err)
	}
	return nil
}

// wait returns when the kernel has let go of the mount, and removes the
// page cache.
func (f *mount) wait() {
	f.server.Wait()
	os.RemoveAll(f.cache)
}

// unmount unmounts in order (the kernel writes back its dirty pages
// through the mount first) and then makes everything durable.
func (f *mount) unmount() error {
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
func (f *mount) persistAllLocked() error {
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
func (f *mount) idLocked(ino uint64) objectID {
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
func (f *mount) fresh(ino uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.ids, ino)
	f.dirty[ino] = &dirtyFile{truncTo: 0, setSize: -1}
}

func (f *mount) wrote(ino uint64, off, end int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dirtyLocked(ino).add(off, end)
}

func (f *mount) truncated(ino uint64, size int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.dirtyLocked(ino)
	if d.truncTo < 0 || size < d.truncTo {
		d.truncTo = size
	}
	d.setSize = size
}

func (f *mount) dirtyLocked(ino uint64) *dirtyFile {
	d := f.dirty[ino]
	if d == nil {
		d = &dirtyFile{truncTo: -1, setSize: -1}
		f.dirty[ino] = d
	}
	return d
}

// syncFile is fsync(2) or fdatasync(2) on the file ino, open as fd.
func (f *mount) syncFile(ino uint64, fd int) syscall.Errno {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.isCut.Load() {
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
func (f *mount) syncDir(ino uint64, path string) syscall.Errno {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.isCut.Load() {
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
func (f *mount) syncDataLocked(ino uint64, fd int) error {
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
	if d != nil && len(d.spans) > 0 {
		// The caller's descriptor may be write-only (os.OpenFile with
		// O_WRONLY, as the kernel passes it through): read the unsynced
		// ranges through one of our own.
		rfd, err := syscall.Open(fmt.Sprintf("/proc/self/fd/%d", fd), syscall.O_RDONLY, 0)
		if err != nil {
			return fmt.Errorf("reopening the page-cache file to read it: %w", err)
		}
		defer syscall.Close(rfd)
		fd = rfd
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
func (f *mount) commitAllLocked() error {
	dirs := map[objectID]map[string]entry{}
	var rec func(path string, id objectID) error
	rec = func(path string, id objectID) error {
		m, err := f.listLocked(path)
		if err != nil {
			return err
		}
		dirs[id] = m
		for name, e := range m {
			if !e.Dir {
				continue
			}
			err := rec(filepath.Join(path, name), e.ID)
			if errors.Is(err, fs.ErrNotExist) {
				// Removed while we listed (another process's rmdir, done
				// through the mount as this sync runs): as if listed after.
				delete(m, name)
				continue
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := rec(f.cache, rootID); err != nil {
		return fmt.Errorf("committing the name space: %w", err)
	}
	f.disk.tree.Dirs = dirs
	// Sizes set by truncate(2) are journaled metadata on ext4: they are
	// committed with the name space, the data written is not.
	for ino, d := range f.dirty {
		id, named := f.ids[ino]
		if !named || d.setSize < 0 {
			continue
		}
		if err := truncateObject(f.disk.objectPath(id), d.truncTo, d.setSize); err != nil {
			return fmt.Errorf("committing a file's size: %w", err)
		}
		d.truncTo, d.setSize = -1, -1
	}
	return f.disk.save()
}

// truncateObject cuts a durable object to cut bytes, then sets its size.
func truncateObject(path string, cut, size int64) error {
	obj, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer obj.Close()
	if cut >= 0 {
		if err := obj.Truncate(cut); err != nil {
			return err
		}
	}
	if err := obj.Truncate(size); err != nil {
		return err
	}
	return obj.Close()
}

// listLocked reads one cache directory as durable entries. Only regular
// files and directories are kept.
func (f *mount) listLocked(path string) (map[string]entry, error) {
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
	setSize int64 // the size the last truncate(2) set; -1: none
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
