package powerloss

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// The backing directory is the emulated disk. It holds:
//
//	tree.json      the durable name space: every directory's entries
//	objects/<id>   the durable content of file <id>
//
// A file's content and its names are durable separately, as on a real
// disk: fsync of a file copies its unsynced ranges into objects/<id>; a
// directory's entries reach tree.json only when the name space is committed.

// rootID is the object id of the mount's root directory.
const rootID objectID = 1

type objectID uint64

// entry is one durable directory entry.
type entry struct {
	ID   objectID `json:"id"`
	Dir  bool     `json:"dir,omitempty"`
	Mode uint32   `json:"mode"`
}

// tree is the durable name space.
type tree struct {
	Next objectID                      `json:"next"`
	Dirs map[objectID]map[string]entry `json:"dirs"`
}

func (d *disk) treePath() string { return filepath.Join(d.dir, "tree.json") }
func (d *disk) objectPath(id objectID) string {
	return filepath.Join(d.dir, "objects", strconv.FormatUint(uint64(id), 10))
}

// disk is the durable state behind one mount.
type disk struct {
	dir  string
	tree tree
}

// openDisk reads the durable name space from dir, creating an empty disk
// when dir holds none, and deletes objects no durable entry names (files
// whose data was synced but whose name never was).
func openDisk(dir string) (*disk, error) {
	d := &disk{dir: dir, tree: tree{Next: rootID + 1, Dirs: map[objectID]map[string]entry{rootID: {}}}}
	if err := os.MkdirAll(filepath.Join(dir, "objects"), 0o755); err != nil {
		return nil, fmt.Errorf("creating the backing store: %w", err)
	}
	b, err := os.ReadFile(d.treePath())
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("reading the durable name space: %w", err)
	default:
		if err := json.Unmarshal(b, &d.tree); err != nil {
			return nil, fmt.Errorf("decoding the durable name space: %w", err)
		}
	}
	reachable := map[objectID]bool{}
	d.walk(rootID, func(id objectID, e entry) { reachable[e.ID] = true })
	objs, err := os.ReadDir(filepath.Join(dir, "objects"))
	if err != nil {
		return nil, fmt.Errorf("listing durable objects: %w", err)
	}
	for _, o := range objs {
		id, err := strconv.ParseUint(o.Name(), 10, 64)
		if err == nil && !reachable[objectID(id)] {
			if err := os.Remove(filepath.Join(dir, "objects", o.Name())); err != nil {
				return nil, fmt.Errorf("deleting an unreachable object: %w", err)
			}
		}
	}
	return d, nil
}

// walk calls fn for every durable entry reachable from directory id.
func (d *disk) walk(id objectID, fn func(parent objectID, e entry)) {
	seen := map[objectID]bool{}
	var rec func(objectID)
	rec = func(dir objectID) {
		if seen[dir] {
			return
		}
		seen[dir] = true
		for _, e := range d.tree.Dirs[dir] {
			fn(dir, e)
			if e.Dir {
				rec(e.ID)
			}
		}
	}
	rec(id)
}

// materialize lays the durable state out as a plain directory tree at
// cache (the page cache of a fresh mount) and returns which object each
// cache inode holds.
func (d *disk) materialize(cache string) (map[uint64]objectID, error) {
	ids := map[uint64]objectID{}
	var st syscall.Stat_t
	if err := syscall.Stat(cache, &st); err != nil {
		return nil, fmt.Errorf("inspecting the page cache: %w", err)
	}
	ids[st.Ino] = rootID
	placed := map[objectID]string{} // hard links: an object already laid out
	var rec func(dir objectID, path string) error
	rec = func(dir objectID, path string) error {
		for name, e := range d.tree.Dirs[dir] {
			p := filepath.Join(path, name)
			switch {
			case e.Dir:
				if err := os.Mkdir(p, fs.FileMode(e.Mode&0o7777)); err != nil {
					return fmt.Errorf("restoring a directory: %w", err)
				}
				if err := rec(e.ID, p); err != nil {
					return err
				}
			case placed[e.ID] != "":
				if err := os.Link(placed[e.ID], p); err != nil {
					return fmt.Errorf("restoring a hard link: %w", err)
				}
				continue
			default:
				if err := copySparse(d.objectPath(e.ID), p, e.Mode&0o7777); err != nil {
					return fmt.Errorf("restoring a file: %w", err)
				}
				placed[e.ID] = p
			}
			if err := syscall.Lstat(p, &st); err != nil {
				return fmt.Errorf("inspecting a restored entry: %w", err)
			}
			ids[st.Ino] = e.ID
		}
		return nil
	}
	if err := rec(rootID, cache); err != nil {
		return nil, err
	}
	return ids, nil
}

// save writes the durable name space atomically.
func (d *disk) save() error {
	b, err := json.Marshal(d.tree)
	if err != nil {
		return fmt.Errorf("encoding the durable name space: %w", err)
	}
	tmp := d.treePath() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("writing the durable name space: %w", err)
	}
	if err := os.Rename(tmp, d.treePath()); err != nil {
		return fmt.Errorf("replacing the durable name space: %w", err)
	}
	return nil
}

// copySparse copies src (missing: empty) to a new file dst, keeping holes.
func copySparse(src, dst string, mode uint32) error {
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fs.FileMode(mode))
	if err != nil {
		return err
	}
	defer out.Close()
	in, err := os.Open(src)
	if errors.Is(err, fs.ErrNotExist) {
		return out.Close()
	}
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	for off := int64(0); off < size; {
		data, err := unix.Seek(int(in.Fd()), off, unix.SEEK_DATA)
		if err != nil { // ENXIO: only a hole is left
			break
		}
		hole, err := unix.Seek(int(in.Fd()), data, unix.SEEK_HOLE)
		if err != nil {
			hole = size
		}
		if _, err := io.Copy(io.NewOffsetWriter(out, data), io.NewSectionReader(in, data, hole-data)); err != nil {
			return err
		}
		off = hole
	}
	if err := out.Truncate(size); err != nil {
		return err
	}
	return out.Close()
}
