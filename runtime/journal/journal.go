package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// ErrNotFound is returned for a key the journal does not hold.
var ErrNotFound = errors.New("no such transaction in the journal")

// Counters are the terminal's batch and next trace numbers, 6 digits each.
type Counters struct {
	Batch     string
	NextTrace string
}

// Journal is the badger-backed transaction journal. Its methods are safe
// for concurrent use.
type Journal struct {
	db      *badger.DB
	now     func() time.Time
	logf    func(format string, args ...any)
	mu      sync.Mutex   // serialises counter updates
	pending atomic.Int64 // records in the pending index
}

// Options configure Open.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logf receives badger's warnings and errors; nil discards them.
	Logf func(format string, args ...any)
}

// Open opens (creating if needed) the journal in dir, with writes synced to
// disk before they return and small memory tables fit for a terminal.
func Open(dir string, o Options) (*Journal, error) {
	opts := badger.DefaultOptions(dir).
		WithSyncWrites(true).
		WithLogger(logger{o.Logf}).
		WithMemTableSize(4 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(4).
		WithBaseTableSize(2 << 20).
		WithValueLogFileSize(16 << 20).
		WithValueThreshold(1 << 10).
		WithBlockCacheSize(1 << 20).
		WithIndexCacheSize(1 << 20).
		WithNumCompactors(2).
		WithMetricsEnabled(false)
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("opening journal in %s: %w", dir, err)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	j := &Journal{db: db, now: now, logf: logf}
	err = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pendingPrefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			j.pending.Add(1)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening journal in %s: counting pending transactions: %w", dir, err)
	}
	return j, nil
}

// Close flushes and closes the journal.
func (j *Journal) Close() error { return j.db.Close() }

var (
	keyTrace = []byte("counter/trace")
	keyBatch = []byte("counter/batch")
)

const (
	firstBatch = 1
	maxCounter = 999999
)

func format6(n int) string { return fmt.Sprintf("%06d", n) }

func readCounter(txn *badger.Txn, key []byte, zero int) (int, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return zero, nil
	}
	if err != nil {
		return 0, err
	}
	var n int
	err = item.Value(func(v []byte) error {
		n, err = strconv.Atoi(string(v))
		return err
	})
	return n, err
}

// nextTrace follows last; trace numbers run 000001..999999 and wrap.
func nextTrace(last int) int { return last%maxCounter + 1 }

// readCounters reads the current batch and the trace the next Begin takes.
func readCounters(txn *badger.Txn) (batch, trace int, err error) {
	last, err := readCounter(txn, keyTrace, 0)
	if err != nil {
		return 0, 0, err
	}
	batch, err = readCounter(txn, keyBatch, firstBatch)
	return batch, nextTrace(last), err
}

// Counters returns the current batch and the trace the next Begin takes.
func (j *Journal) Counters() (Counters, error) {
	var c Counters
	err := j.db.View(func(txn *badger.Txn) error {
		batch, trace, err := readCounters(txn)
		c = Counters{Batch: format6(batch), NextTrace: format6(trace)}
		return err
	})
	if err != nil {
		return Counters{}, fmt.Errorf("reading counters: %w", err)
	}
	return c, nil
}

// AdoptBatch moves the terminal to the host's batch number (from sign-in)
// when it is ahead of the terminal's; the batch never goes backwards.
func (j *Journal) AdoptBatch(batch string) (string, error) {
	n, err := strconv.Atoi(batch)
	if err != nil || len(batch) != 6 || n < 1 {
		return "", fmt.Errorf("batch number %q from the host is not 6 digits", batch)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	cur := 0
	err = j.db.Update(func(txn *badger.Txn) error {
		if cur, err = readCounter(txn, keyBatch, firstBatch); err != nil {
			return err
		}
		if n <= cur {
			return nil
		}
		cur = n
		return txn.Set(keyBatch, []byte(strconv.Itoa(n)))
	})
	if err != nil {
		return "", fmt.Errorf("adopting batch %s: %w", batch, err)
	}
	return format6(cur), nil
}

// Begin journals an intent: it takes the next trace number in the current
// batch and writes the record in state created, both in one commit synced
// to disk before Begin returns. Only then may the caller send the request.
func (j *Journal) Begin(ctx context.Context, in Intent) (Record, error) {
	if err := in.validate(); err != nil {
		return Record{}, fmt.Errorf("journaling intent: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var rec Record
	err := j.db.Update(func(txn *badger.Txn) error {
		batch, trace, err := readCounters(txn)
		if err != nil {
			return err
		}
		now := j.now().UTC()
		rec = Record{
			TID: in.TID, MID: in.MID, Batch: format6(batch), Trace: format6(trace),
			Kind: in.Kind, Channel: in.Channel, Amount: in.Amount,
			MaskedPAN: in.MaskedPAN, EntryMode: in.EntryMode,
			State: StateCreated, CreatedAt: now, UpdatedAt: now,
		}
		if _, err := txn.Get(rec.Key().dbKey()); err == nil {
			return fmt.Errorf("trace %s already used in batch %s: refusing to reuse it", rec.Trace, rec.Batch)
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if err := txn.Set(keyTrace, []byte(strconv.Itoa(trace))); err != nil {
			return err
		}
		if err := txn.Set(rec.Key().pendingKey(), nil); err != nil {
			return err
		}
		return putRecord(txn, rec)
	})
	if err != nil {
		return Record{}, fmt.Errorf("journaling intent: %w", err)
	}
	j.pending.Add(1)
	return rec, nil
}

// MarkSent records, without waiting for the disk, that the created record
// with key is being handed to the channel: it costs the request no fsync.
// The mark is written before any later Finish of the same record; if the
// terminal crashes first the record stays created, which is pending all
// the same. A failure is logged, never lost silently.
func (j *Journal) MarkSent(key Key) {
	txn := j.db.NewTransaction(true)
	defer txn.Discard()
	rec, err := getRecord(txn, key)
	if err == nil && rec.State != StateCreated {
		err = fmt.Errorf("record is already %s", rec.State)
	}
	if err == nil {
		rec.State, rec.UpdatedAt = StateSent, j.now().UTC()
		err = putRecord(txn, rec)
	}
	if err != nil {
		j.logf("marking %s sent: %v", key, err)
		return
	}
	txn.CommitWith(func(err error) {
		if err != nil {
			j.logf("marking %s sent: %v", key, err)
		}
	})
}

// Finish records the outcome of a pending (created, sent or unknown)
// record, synced: approved, declined, unknown, or reversed.
func (j *Journal) Finish(ctx context.Context, key Key, out Outcome) (Record, error) {
	if out.State == StateCreated || out.State == StateSent {
		return Record{}, fmt.Errorf("recording outcome of %s: %q is not an outcome", key, out.State)
	}
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	var rec Record
	resolved := false
	err := j.db.Update(func(txn *badger.Txn) error {
		var err error
		if rec, err = getRecord(txn, key); err != nil {
			return err
		}
		if !rec.State.Pending() {
			return fmt.Errorf("record is already %s", rec.State)
		}
		rec.State, rec.HostCode, rec.HostMessage, rec.RRN, rec.AuthCode = out.State, out.HostCode, out.HostMessage, out.RRN, out.AuthCode
		rec.UpdatedAt = j.now().UTC()
		if resolved = !rec.State.Pending(); resolved {
			if err := txn.Delete(key.pendingKey()); err != nil {
				return err
			}
		}
		return putRecord(txn, rec)
	})
	if err != nil {
		return Record{}, fmt.Errorf("recording outcome of %s: %w", key, err)
	}
	if resolved {
		j.pending.Add(-1)
	}
	return rec, nil
}

// Pending returns the records whose outcome is not known, oldest first.
// An index kept in the same commits as the records makes this independent
// of the journal's size.
func (j *Journal) Pending() ([]Record, error) {
	if j.pending.Load() == 0 {
		return nil, nil
	}
	var out []Record
	err := j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pendingPrefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			rec, err := getRecord(txn, keyFromPending(it.Item().Key()))
			if err != nil {
				return err
			}
			out = append(out, rec)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing pending transactions: %w", err)
	}
	return out, nil
}

// Get returns the record with key.
func (j *Journal) Get(key Key) (Record, error) {
	var rec Record
	err := j.db.View(func(txn *badger.Txn) error {
		var err error
		rec, err = getRecord(txn, key)
		return err
	})
	return rec, err
}

// List returns every record, oldest key first.
func (j *Journal) List() ([]Record, error) {
	var out []Record
	err := j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("txn/"), PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var rec Record
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &rec) }); err != nil {
				return fmt.Errorf("decoding %s: %w", it.Item().Key(), err)
			}
			out = append(out, rec)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing journal: %w", err)
	}
	return out, nil
}

func getRecord(txn *badger.Txn, key Key) (Record, error) {
	item, err := txn.Get(key.dbKey())
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Record{}, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	if err != nil {
		return Record{}, err
	}
	var rec Record
	err = item.Value(func(v []byte) error { return json.Unmarshal(v, &rec) })
	return rec, err
}

func putRecord(txn *badger.Txn, rec Record) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return txn.Set(rec.Key().dbKey(), v)
}

// logger passes badger's warnings and errors to Logf and drops the chatter.
type logger struct{ logf func(string, ...any) }

func (l logger) Errorf(f string, a ...any) {
	if l.logf != nil {
		l.logf("journal: "+f, a...)
	}
}
func (l logger) Warningf(f string, a ...any) { l.Errorf(f, a...) }
func (l logger) Infof(string, ...any)        {}
func (l logger) Debugf(string, ...any)       {}
