package ledger

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/posrt/posrt/internal/durable"
)

// File is an append-only ledger of JSON lines, one entry of type E a line.
// An entry is written, and synced unless the ledger was opened without
// sync, before Append returns, so that a host that answers after Append
// remembers what it answered across a crash.
type File[E any] struct {
	fh   *os.File
	path string
	size int64 // bytes of well-formed ledger
	sync bool
	// since counts the appends since the last snapshot (or since Open).
	since int
	// replayed counts the entries Open replayed (those after the snapshot).
	replayed int
}

// Open opens (creating) the ledger at path, hands each well-formed entry
// to replay in order, cuts off a torn last line (a crash in the middle of
// an append) and leaves the file positioned for appending. valid tells a
// decoded line from garbage (e.g. it has its operation); a malformed line
// other than the last is an error.
func Open[E any](path string, sync bool, valid func(E) bool, replay func(E) error) (*File[E], error) {
	return OpenFrom(path, sync, valid, nil, replay)
}

// OpenFrom is Open for a ledger with snapshots (see Snapshot): when a
// snapshot of the ledger at path exists and covers no more than the
// ledger's well-formed prefix, restore is handed its state and only the
// entries after the offset it covers are replayed; otherwise (no snapshot,
// or restore is nil) the whole ledger is. The ledger file itself stays
// the full history.
func OpenFrom[E any](path string, sync bool, valid func(E) bool, restore func(json.RawMessage) error, replay func(E) error) (*File[E], error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating ledger directory: %w", err)
	}
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening ledger: %w", err)
	}
	fail := func(err error) (*File[E], error) {
		_ = fh.Close()
		return nil, err
	}
	fi, err := fh.Stat()
	if err != nil {
		return fail(fmt.Errorf("opening ledger: %w", err))
	}
	var from int64
	if restore != nil {
		snap, err := readSnapshot(SnapshotPath(path))
		if err != nil {
			return fail(err)
		}
		if snap != nil && snap.Offset <= fi.Size() {
			if err := restore(snap.State); err != nil {
				return fail(fmt.Errorf("restoring snapshot of ledger %s: %w", path, err))
			}
			from = snap.Offset
		}
	}
	if _, err := fh.Seek(from, io.SeekStart); err != nil {
		return fail(fmt.Errorf("opening ledger: %w", err))
	}
	entries, tail, err := read(fh, valid, nil)
	if err != nil {
		return fail(fmt.Errorf("replaying ledger %s: %w", path, err))
	}
	good := from + tail
	for i, e := range entries {
		if err := replay(e); err != nil {
			return fail(fmt.Errorf("replaying ledger %s entry %d after offset %d: %w", path, i+1, from, err))
		}
	}
	if fi.Size() != good {
		if err := fh.Truncate(good); err != nil {
			return fail(fmt.Errorf("cutting torn ledger line: %w", err))
		}
		if err := fh.Sync(); err != nil {
			return fail(fmt.Errorf("cutting torn ledger line: %w", err))
		}
	}
	if _, err := fh.Seek(good, io.SeekStart); err != nil {
		return fail(fmt.Errorf("opening ledger: %w", err))
	}
	if good == 0 { // a new file: make its directory entry durable too
		if err := durable.SyncDir(filepath.Dir(path)); err != nil {
			return fail(fmt.Errorf("making ledger %s durable: %w", path, err))
		}
	}
	return &File[E]{fh: fh, path: path, size: good, sync: sync, replayed: len(entries)}, nil
}

// SnapshotPath is where the snapshot of the ledger at path is kept.
func SnapshotPath(path string) string { return path + ".snapshot" }

// snapshot is the snapshot file: the state a replay of the ledger's first
// Offset bytes leads to.
type snapshot struct {
	Offset int64           `json:"offset"`
	State  json.RawMessage `json:"state"`
}

func readSnapshot(path string) (*snapshot, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading ledger snapshot: %w", err)
	}
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil || s.Offset < 0 || len(s.State) == 0 {
		return nil, fmt.Errorf("ledger snapshot %s is corrupt", path)
	}
	return &s, nil
}

// Replayed is how many entries Open replayed: those after the snapshot it
// restored, or all of them.
func (f *File[E]) Replayed() int { return f.replayed }

// SinceSnapshot is how many entries were appended since the last Snapshot
// (or since Open).
func (f *File[E]) SinceSnapshot() int { return f.since }

// Snapshot records state, which must be what replaying the whole ledger as
// it stands leads to, so that the next OpenFrom restores it and replays
// only what is appended afterwards. The ledger is synced first (so the
// snapshot never covers more than the ledger holds), then the snapshot is
// written beside it atomically: a temporary file, synced, renamed over the
// last snapshot, and the directory synced. A crash at any point leaves the
// last snapshot or the new one, each consistent with the ledger.
func (f *File[E]) Snapshot(state any) error {
	raw, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("encoding ledger snapshot: %w", err)
	}
	b, err := json.Marshal(snapshot{Offset: f.size, State: raw})
	if err != nil {
		return fmt.Errorf("encoding ledger snapshot: %w", err)
	}
	if !f.sync {
		if err := f.fh.Sync(); err != nil {
			return fmt.Errorf("syncing ledger before its snapshot: %w", err)
		}
	}
	if err := durable.WriteFile(SnapshotPath(f.path), b, 0o600); err != nil {
		return fmt.Errorf("writing ledger snapshot: %w", err)
	}
	f.since = 0
	return nil
}

// Append writes e as one line and syncs it. A failed append leaves the
// ledger as it was, so the next one starts on a fresh line.
func (f *File[E]) Append(e E) error {
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding ledger entry: %w", err)
	}
	line = append(line, '\n')
	if _, err := f.fh.Write(line); err != nil {
		f.rewind()
		return fmt.Errorf("appending to ledger: %w", err)
	}
	if f.sync {
		if err := f.fh.Sync(); err != nil {
			f.rewind()
			return fmt.Errorf("syncing ledger: %w", err)
		}
	}
	f.size += int64(len(line))
	f.since++
	return nil
}

func (f *File[E]) rewind() {
	if f.fh.Truncate(f.size) == nil {
		_, _ = f.fh.Seek(f.size, io.SeekStart)
	}
}

// Close closes the ledger file.
func (f *File[E]) Close() error { return f.fh.Close() }

// Read reads the entries of the ledger at path, ignoring a torn last line.
func Read[E any](path string, valid func(E) bool) ([]E, error) {
	return ReadMatching(path, valid, nil)
}

// ReadMatching is Read for the lines match accepts (all of them if match
// is nil): a line match refuses is neither decoded nor checked, so that a
// host can look one thing up in a long ledger without decoding it all. The
// ledger may be open for appending meanwhile: a host reads it between two
// of its appends.
func ReadMatching[E any](path string, valid func(E) bool, match func(line []byte) bool) ([]E, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading ledger: %w", err)
	}
	defer fh.Close()
	entries, _, err := read(fh, valid, match)
	return entries, err
}

// read parses newline-terminated JSON lines. It returns the entries and the
// length of the well-formed prefix: an unterminated or unparsable last line
// is a torn write and is left out of both. A terminated line that match
// (if not nil) refuses is skipped, counted in the prefix.
func read[E any](r io.Reader, valid func(E) bool, match func([]byte) bool) ([]E, int64, error) {
	br := bufio.NewReader(r)
	var (
		entries []E
		good    int64
		pending error // a malformed line, fatal only if another line follows
	)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && pending != nil {
			return nil, 0, pending
		}
		if errors.Is(err, io.EOF) {
			return entries, good, nil // an unterminated tail is torn
		}
		if err != nil {
			return nil, 0, fmt.Errorf("reading ledger: %w", err)
		}
		if match != nil && !match(line) {
			good += int64(len(line))
			continue
		}
		var e E
		if jerr := json.Unmarshal(bytes.TrimSpace(line), &e); jerr != nil || !valid(e) {
			pending = fmt.Errorf("ledger line %d is corrupt: %q", n, bytes.TrimSpace(line))
			continue
		}
		entries = append(entries, e)
		good += int64(len(line))
	}
}
