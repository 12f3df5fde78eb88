package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	badger "github.com/dgraph-io/badger/v4"
)

// SchemaVersion is the version of the journal's layout this release
// writes. Open migrates an older journal, step by step, before anything
// else reads it, and refuses one written by a newer release.
const SchemaVersion = 4

var keySchema = []byte("meta/schema")

// migrations[v] takes a journal from version v to v+1. A step must be
// idempotent: it is written in batches (a journal can be larger than one
// badger transaction), and the new version is recorded only after the
// last batch, so a crash in between runs the step again.
var migrations = map[int]func(db *badger.DB) (int, error){
	1: migrateV1,
	2: migrateV2,
	3: migrateV3,
}

func migrate(db *badger.DB, logf func(string, ...any)) error {
	var version int
	err := db.View(func(txn *badger.Txn) error {
		var err error
		version, err = readSchema(txn)
		return err
	})
	if err != nil {
		return err
	}
	if version == 0 {
		// A new journal: it is of this release's schema from its first key.
		return db.Update(func(txn *badger.Txn) error { return txn.Set(keySchema, []byte(strconv.Itoa(SchemaVersion))) })
	}
	if version > SchemaVersion {
		return fmt.Errorf("the journal has schema version %d, newer than the %d this posrt reads: run the posrt that wrote it", version, SchemaVersion)
	}
	for version < SchemaVersion {
		step := migrations[version]
		n, err := step(db)
		if err == nil {
			err = db.Update(func(txn *badger.Txn) error {
				return txn.Set(keySchema, []byte(strconv.Itoa(version+1)))
			})
		}
		if err != nil {
			return fmt.Errorf("migrating the journal from schema %d to %d: %w", version, version+1, err)
		}
		logf("journal migrated from schema %d to %d (%d records)", version, version+1, n)
		version++
	}
	return nil
}

// readSchema returns the journal's schema version: a journal without one is
// version 1 (the first release's) when it holds anything, else it is new
// (0).
func readSchema(txn *badger.Txn) (int, error) {
	item, err := txn.Get(keySchema)
	if err == nil {
		var v int
		err = item.Value(func(b []byte) error {
			v, err = strconv.Atoi(string(b))
			return err
		})
		return v, err
	}
	if !errors.Is(err, badger.ErrKeyNotFound) {
		return 0, err
	}
	it := txn.NewIterator(badger.IteratorOptions{})
	defer it.Close()
	it.Rewind()
	if it.Valid() {
		return 1, nil
	}
	return 0, nil
}

// migrateV1 rewrites the first release's records: "channel" becomes
// "medium"; kinds, states and amounts keep their names and values.
func migrateV1(db *badger.DB) (int, error) {
	type change struct{ key, val []byte }
	var changes []change
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(recordPrefix), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var fields map[string]json.RawMessage
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &fields) }); err != nil {
				return fmt.Errorf("decoding %s: %w", it.Item().Key(), err)
			}
			ch, ok := fields["channel"]
			if !ok {
				continue
			}
			fields["medium"] = ch
			delete(fields, "channel")
			v, err := json.Marshal(fields)
			if err != nil {
				return err
			}
			changes = append(changes, change{it.Item().KeyCopy(nil), v})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	for _, c := range changes {
		if err := wb.Set(c.key, c.val); err != nil {
			return 0, err
		}
	}
	if err := wb.Flush(); err != nil {
		return 0, err
	}
	return len(changes), nil
}

// migrateV2 writes the day index (day/<date>/<key>, dayValue) of every
// record.
func migrateV2(db *badger.DB) (int, error) {
	var keys, vals [][]byte
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(recordPrefix), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var rec Record
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &rec) }); err != nil {
				return fmt.Errorf("decoding %s: %w", it.Item().Key(), err)
			}
			keys, vals = append(keys, dayKey(rec.CreatedAt, rec.Key())), append(vals, dayValue(rec))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return writeAll(db, keys, vals)
}

// migrateV3 re-encodes every record from JSON to its protocol-buffer form
// (encodeRecord). A record already re-encoded (a crash mid-step) is left
// as it is.
func migrateV3(db *badger.DB) (int, error) {
	var keys, vals [][]byte
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(recordPrefix), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var v []byte
			err := it.Item().Value(func(old []byte) error {
				if len(old) == 0 || old[0] != '{' {
					return nil // re-encoded by an earlier run of this step
				}
				var rec Record
				if err := json.Unmarshal(old, &rec); err != nil {
					return err
				}
				var err error
				v, err = encodeRecord(rec)
				return err
			})
			if err != nil {
				return fmt.Errorf("re-encoding %s: %w", it.Item().Key(), err)
			}
			if v != nil {
				keys, vals = append(keys, it.Item().KeyCopy(nil)), append(vals, v)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return writeAll(db, keys, vals)
}

// writeAll writes vals[i] under keys[i] in write batches (a step can be
// larger than one badger transaction) and returns how many it wrote.
func writeAll(db *badger.DB, keys, vals [][]byte) (int, error) {
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	for i, k := range keys {
		if err := wb.Set(k, vals[i]); err != nil {
			return 0, err
		}
	}
	if err := wb.Flush(); err != nil {
		return 0, err
	}
	return len(keys), nil
}
