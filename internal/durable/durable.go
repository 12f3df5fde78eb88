package durable

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile replaces the file at path with data, mode perm, durably: data
// goes to path+".tmp" in the same directory, which is synced, renamed over
// path, and the directory is synced. After a crash path holds its old
// content or all of data, never a part of it; a leftover path+".tmp" is
// overwritten by the next write. The temporary file is removed when
// WriteFile fails. Writers of one path must be serialised by the caller.
func WriteFile(path string, data []byte, perm os.FileMode) (err error) {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("creating %s: %w", tmp, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	// OpenFile applies perm only to a new file, and through the umask; a
	// leftover temporary file keeps whatever mode it had.
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("setting the mode of %s: %w", tmp, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("renaming %s over %s: %w", tmp, path, err)
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir fsyncs the directory dir, making the names created, renamed or
// removed in it durable (POSIX keeps a file's name only once its
// directory is synced, however often the file itself was).
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening directory %s to sync it: %w", dir, err)
	}
	err = d.Sync()
	cerr := d.Close()
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	if cerr != nil {
		return fmt.Errorf("closing directory %s: %w", dir, cerr)
	}
	return nil
}
