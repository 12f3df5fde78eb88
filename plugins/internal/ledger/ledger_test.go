package ledger

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type entry struct {
	Op string `json:"op"`
	N  int    `json:"n"`
}

func valid(e entry) bool { return e.Op != "" }

func TestAppendReplayAndTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "ledger.jsonl")
	var seen []entry
	f, err := Open(path, true, valid, func(e entry) error { seen = append(seen, e); return nil })
	if err != nil || len(seen) != 0 {
		t.Fatalf("new ledger: %v, %v", seen, err)
	}
	for i := 1; i <= 3; i++ {
		if err := f.Append(entry{"book", i}); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	// A crash in the middle of an append leaves a torn last line.
	fh, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	fh.WriteString(`{"op":"book","n":`)
	fh.Close()
	f, err = Open(path, true, valid, func(e entry) error { seen = append(seen, e); return nil })
	if err != nil || len(seen) != 3 || seen[2].N != 3 {
		t.Fatalf("replay = %v, %v", seen, err)
	}
	if err := f.Append(entry{"book", 4}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got, err := Read(path, valid)
	if err != nil || len(got) != 4 || got[3].N != 4 {
		t.Fatalf("Read = %v, %v", got, err)
	}
	b, _ := os.ReadFile(path)
	if strings.Count(string(b), "\n") != 4 || strings.Contains(string(b), `"n":{`) {
		t.Fatalf("file after the torn line was cut:\n%s", b)
	}
}

func TestCorruptMiddleLineIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	os.WriteFile(path, []byte("{\"op\":\"a\"}\nnot json\n{\"op\":\"b\"}\n"), 0o600)
	if _, err := Open(path, true, valid, func(entry) error { return nil }); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("corrupt ledger opened: %v", err)
	}
}

// sum is a state a replay of entries leads to: their count and sum of N.
type sum struct{ Count, Total int }

func openSum(t *testing.T, path string, st *sum) *File[entry] {
	t.Helper()
	f, err := OpenFrom(path, true, valid,
		func(raw json.RawMessage) error { return json.Unmarshal(raw, st) },
		func(e entry) error { st.Count++; st.Total += e.N; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSnapshotSkipsTheReplayOfWhatItCovers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	var st sum
	f := openSum(t, path, &st)
	for i := 1; i <= 1000; i++ {
		if err := f.Append(entry{"book", i}); err != nil {
			t.Fatal(err)
		}
		st.Count++
		st.Total += i
		if f.SinceSnapshot() >= 300 {
			if err := f.Snapshot(st); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.Close()
	var again sum
	f = openSum(t, path, &again)
	defer f.Close()
	if again != st {
		t.Fatalf("restored %+v, want %+v", again, st)
	}
	// Snapshots at 300, 600 and 900: only the last 100 are replayed.
	if f.Replayed() != 100 {
		t.Fatalf("replayed %d entries, want the 100 after the snapshot", f.Replayed())
	}
	// The ledger file stays the full history.
	if all, err := Read(path, valid); err != nil || len(all) != 1000 {
		t.Fatalf("Read = %d entries, %v", len(all), err)
	}
}

func TestCrashBeforeSnapshotRenameLosesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	var st sum
	f := openSum(t, path, &st)
	for i := 1; i <= 10; i++ {
		f.Append(entry{"book", i})
		st.Count++
		st.Total += i
		if i == 4 {
			if err := f.Snapshot(st); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.Close()
	// A crash after the new snapshot's temporary file was written (here
	// half of it) but before it was renamed over the last one.
	os.WriteFile(SnapshotPath(path)+".tmp", []byte(`{"offset": 99999, "state": {"Count"`), 0o600)
	var again sum
	f = openSum(t, path, &again)
	defer f.Close()
	if again != st || f.Replayed() != 6 {
		t.Fatalf("after the crash: %+v replaying %d, want %+v replaying 6", again, f.Replayed(), st)
	}
}

func TestSnapshotBeyondTheLedgerIsNotTrusted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	var st sum
	f := openSum(t, path, &st)
	for i := 1; i <= 3; i++ {
		f.Append(entry{"book", i})
	}
	f.Close()
	// A snapshot claiming more ledger than there is (the ledger lost its
	// unsynced tail): the whole ledger is replayed instead.
	os.WriteFile(SnapshotPath(path), []byte(`{"offset": 99999, "state": {"Count": 50, "Total": 50}}`), 0o600)
	var again sum
	f = openSum(t, path, &again)
	defer f.Close()
	if again != (sum{3, 6}) || f.Replayed() != 3 {
		t.Fatalf("restored %+v replaying %d, want the ledger's {3 6} replaying 3", again, f.Replayed())
	}
}

func TestReadMatchingDecodesOnlyTheLinesMatched(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	// The garbage line is refused by match, so it is never decoded; the
	// torn last line is left out as by Read.
	os.WriteFile(path, []byte("{\"op\":\"a\",\"n\":1}\nnot json\n{\"op\":\"b\",\"n\":2}\n{\"op\":\"a\",\"n\":3}\n{\"op\":\"a\",\"n\""), 0o600)
	got, err := ReadMatching(path, valid, func(line []byte) bool { return strings.Contains(string(line), `"op":"a"`) })
	if err != nil || len(got) != 2 || got[0].N != 1 || got[1].N != 3 {
		t.Fatalf("ReadMatching = %v, %v; want entries 1 and 3", got, err)
	}
	if _, err := Read(path, valid); err == nil {
		t.Fatal("Read decoded past a corrupt middle line")
	}
}
