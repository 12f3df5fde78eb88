package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/posrt/posrt/internal/durable"
)

// makeDurableDir creates dir (and its missing parents) and makes its name
// durable: it fsyncs dir and every directory above it, up to the first
// that cannot be opened. badger syncs the files it makes in dir, but a
// file system keeps a directory's own entry in its parent only once the
// parent is synced (POSIX promises no more); without this a power cut
// could lose the whole journal, counters included, however many commits
// were synced into it.
func makeDurableDir(dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("creating the journal directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the journal directory: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		err := durable.SyncDir(d)
		if errors.Is(err, fs.ErrPermission) && d != dir {
			return nil // a directory we may not read is not ours to sync
		}
		if err != nil {
			return fmt.Errorf("syncing %s, the journal directory or a parent of it: %w", d, err)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}
