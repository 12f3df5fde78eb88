package powerloss_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/posrt/posrt/runtime/runtimetest/powerloss"
)

func openBadger(t *testing.T, dir string, sync bool) *badger.DB {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).
		WithSyncWrites(sync).
		WithLogger(nil).
		WithMemTableSize(1 << 20).
		WithValueLogFileSize(1 << 20).
		WithValueThreshold(64). // odd keys' values go to the value log
		WithNumCompactors(2))
	if err != nil {
		t.Fatalf("opening badger on the emulated disk: %v", err)
	}
	return db
}

func value(i int) []byte {
	v := fmt.Appendf(nil, "value-%04d", i)
	if i%2 == 1 {
		v = append(v, bytes.Repeat([]byte{'v'}, 200)...)
	}
	return v
}

// putKeys writes n keys, one Update each, and cuts the power right after.
func putKeys(t *testing.T, disk string, sync bool, n int) {
	t.Helper()
	fs := powerloss.MountT(t, disk, powerloss.Options{})
	db := openBadger(t, fs.Dir(), sync)
	for i := range n {
		err := db.Update(func(txn *badger.Txn) error {
			return txn.Set(fmt.Appendf(nil, "key-%04d", i), value(i))
		})
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	cut(t, fs)
	// The crashed process is gone: db is abandoned, not closed (badger's
	// Close retries flushing its memtable forever while the files answer EIO).
	_ = db
}

// countKeys reopens the disk on a fresh mount and counts the keys found.
func countKeys(t *testing.T, disk string, n int) int {
	t.Helper()
	fs := powerloss.MountT(t, disk, powerloss.Options{})
	db := openBadger(t, fs.Dir(), true)
	defer db.Close()
	found := 0
	err := db.View(func(txn *badger.Txn) error {
		for i := range n {
			item, err := txn.Get(fmt.Appendf(nil, "key-%04d", i))
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			if !bytes.Equal(v, value(i)) {
				return fmt.Errorf("key %d holds %q", i, v)
			}
			found++
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading back: %v", err)
	}
	return found
}

func TestBadgerSyncWritesSurviveCut(t *testing.T) {
	disk := t.TempDir()
	const n = 300
	putKeys(t, disk, true, n)
	if got := countKeys(t, disk, n); got != n {
		t.Fatalf("after the cut %d of %d synced updates are found", got, n)
	}
}

func TestBadgerUnsyncedWritesLostOnCut(t *testing.T) {
	disk := t.TempDir()
	const n = 300
	putKeys(t, disk, false, n)
	got := countKeys(t, disk, n)
	t.Logf("%d of %d updates written without sync survived the cut", got, n)
	if got == n {
		t.Fatalf("after the cut all %d updates written without sync are found: the emulator lost nothing", n)
	}
}
