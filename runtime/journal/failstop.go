package journal

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// ErrJournalFailed is returned by every call after a commit failed on the
// disk: the journal stops until posrt opens it again.
var ErrJournalFailed = errors.New("the journal's disk failed")

// update runs fn in a read-write transaction and commits it, synced. A
// commit that fails on the disk (a write, an fsync) leaves the store in a
// state no one can vouch for: badger serves from memory the write it could
// not make durable, which a restart then loses. So the journal fails every
// later call with ErrJournalFailed, and nothing it could not keep is ever
// read back as kept (an outcome answered "approved" that the next start
// finds pending and reverses). A refusal of fn's own, or a conflict
// between two transactions, changes nothing and is returned as it is.
func (j *Journal) update(fn func(txn *badger.Txn) error) error {
	if err := j.failed(); err != nil {
		return err
	}
	txn := j.db.NewTransaction(true)
	defer txn.Discard()
	if err := fn(txn); err != nil {
		return err
	}
	err := txn.Commit()
	if err != nil && !errors.Is(err, badger.ErrConflict) {
		j.broken.CompareAndSwap(nil, &err)
		j.logf("journal: a commit failed on the disk, the journal stops until posrt restarts: %v", err)
	}
	return err
}

// view runs fn in a read-only transaction, unless the journal failed.
func (j *Journal) view(fn func(txn *badger.Txn) error) error {
	if err := j.failed(); err != nil {
		return err
	}
	return j.db.View(fn)
}

// failed is ErrJournalFailed with its cause once a commit failed.
func (j *Journal) failed() error {
	if p := j.broken.Load(); p != nil {
		return fmt.Errorf("%w (%v): restart posrt; it resolves what was in flight", ErrJournalFailed, *p)
	}
	return nil
}
