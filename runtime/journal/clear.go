package journal

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/posrt/posrt/internal/durable"
)

// ErrNotClearable refuses a clear while the batch is unsettled or records
// are unresolved, unless it is forced (a supervisor confirmed it).
var ErrNotClearable = errors.New("the journal holds unsettled or unresolved records")

var keyClearing = []byte("meta/clearing")

// cleared are the prefixes a clear removes: records, their indexes and
// settlements. The counters (trace and batch) and the schema stay.
var cleared = [][]byte{[]byte(recordPrefix), []byte(dayPrefix), []byte(requestPrefix), []byte(rrnPrefix), []byte(pendingPrefix), []byte(settlePrefix)}

// ClearReport is what a clear did.
type ClearReport struct {
	// Export is the file every record and settlement was written to, one
	// JSON object a line, before anything was removed.
	Export    string `json:"export"`
	Records   int    `json:"records"`
	Batch     string `json:"batch"`
	NextTrace string `json:"next_trace"`
}

// Clear empties the journal (the terminal's "clear cache"): it refuses,
// unless force, while the current batch holds records or anything is
// pending or a settlement is active; it writes every record and
// settlement to a new file in exportDir (synced) and only then removes
// them, keeping the trace and batch counters, so that no host ever sees a
// trace or batch number again. A clear cut short by a crash is finished at
// the next Open. The caller makes sure no operation runs meanwhile.
func (j *Journal) Clear(ctx context.Context, exportDir string, force bool) (ClearReport, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !force {
		var why []string
		if j.batch.Records > 0 {
			why = append(why, fmt.Sprintf("batch %s holds %d records not settled", j.batch.Batch, j.batch.Records))
		}
		if n := j.pendingCount(); n > 0 {
			why = append(why, fmt.Sprintf("%d records are unresolved", n))
		}
		if j.settling {
			why = append(why, "a settlement is being finished")
		}
		if len(why) > 0 {
			return ClearReport{}, fmt.Errorf("%w: %v", ErrNotClearable, why)
		}
	}
	c, err := j.Counters()
	if err != nil {
		return ClearReport{}, err
	}
	rep := ClearReport{Batch: c.Batch, NextTrace: c.NextTrace}
	if rep.Export, rep.Records, err = j.exportAll(ctx, exportDir); err != nil {
		return ClearReport{}, fmt.Errorf("exporting the journal before clearing it (nothing was removed): %w", err)
	}
	if err := j.update(func(txn *badger.Txn) error { return txn.Set(keyClearing, []byte(rep.Export)) }); err != nil {
		return ClearReport{}, fmt.Errorf("clearing the journal (nothing was removed): %w", err)
	}
	if err := j.finishClear(); err != nil {
		return ClearReport{}, err
	}
	return rep, nil
}

// finishClear removes what a clear removes and then its mark; run again
// after a crash it removes the rest.
func (j *Journal) finishClear() error {
	if err := j.db.DropPrefix(cleared...); err != nil {
		return fmt.Errorf("clearing the journal (its export is complete; the clear finishes at the next start): %w", err)
	}
	if err := j.update(func(txn *badger.Txn) error { return txn.Delete(keyClearing) }); err != nil {
		return fmt.Errorf("clearing the journal: %w", err)
	}
	j.pendMu.Lock()
	j.pending = map[Key]struct{}{}
	j.pendMu.Unlock()
	j.settling = false
	j.batch = BatchStats{Batch: j.batch.Batch}
	return nil
}

func (j *Journal) pendingCount() int {
	j.pendMu.Lock()
	defer j.pendMu.Unlock()
	return len(j.pending)
}

// exportAll writes every record, then every settlement, to a new file in
// dir, synced, with its directory.
func (j *Journal) exportAll(ctx context.Context, dir string) (string, int, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", 0, err
	}
	path := filepath.Join(dir, "journal-"+j.now().UTC().Format("20060102T150405.000000000Z")+".jsonl")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	n := 0
	err = j.Each(ctx, Filter{}, Key{}, func(rec Record) error {
		n++
		return enc.Encode(struct {
			Record Record `json:"record"`
		}{rec})
	})
	if err == nil {
		err = j.view(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(settlePrefix)})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				var s Settlement
				if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &s) }); err != nil {
					return err
				}
				if err := enc.Encode(struct {
					Settlement Settlement `json:"settlement"`
				}{s}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = durable.SyncDir(filepath.Dir(path))
	}
	if err != nil {
		os.Remove(path)
		return "", 0, err
	}
	return path, n, nil
}

// resumeClear finishes, at Open, a clear a crash cut short.
func (j *Journal) resumeClear() error {
	var marked bool
	err := j.view(func(txn *badger.Txn) error {
		_, err := txn.Get(keyClearing)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		marked = err == nil
		return err
	})
	if err != nil || !marked {
		return err
	}
	j.logf("journal: finishing a clear cut short at %s", time.Now().Format(time.RFC3339))
	return j.finishClear()
}
