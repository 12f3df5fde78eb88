package ledger

import (
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
