package journal

import (
	"context"
	"slices"
	"testing"
)

func pendingKeys(t *testing.T, j *Journal, skip Key) []Key {
	t.Helper()
	recs, err := j.PendingExcept(skip)
	if err != nil {
		t.Fatal(err)
	}
	var out []Key
	for _, r := range recs {
		out = append(out, r.Key())
	}
	return out
}

// The in-memory mirror of the pending index follows Begin and Move, skips
// the key asked, and is rebuilt from the disk when the journal reopens.
func TestPendingFollowsTheIndex(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	ctx := context.Background()
	var keys []Key
	for i := 0; i < 3; i++ {
		rec, err := j.Begin(ctx, intent(100))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, rec.Key())
	}
	if _, err := j.Move(ctx, keys[1], Change{To: StateUnknown}); err != nil { // still pending
		t.Fatal(err)
	}
	if got := pendingKeys(t, j, Key{}); !slices.Equal(got, keys) {
		t.Fatalf("pending = %v, want %v", got, keys)
	}
	if got := pendingKeys(t, j, keys[0]); !slices.Equal(got, keys[1:]) {
		t.Fatalf("pending except %v = %v, want %v", keys[0], got, keys[1:])
	}
	if _, err := j.Move(ctx, keys[1], Change{To: StateApproved, HostCode: "00"}); err != nil {
		t.Fatal(err)
	}
	want := []Key{keys[0], keys[2]}
	if got := pendingKeys(t, j, Key{}); !slices.Equal(got, want) {
		t.Fatalf("pending after an outcome = %v, want %v", got, want)
	}
	if n := len(j.pending); n != len(want) { // a stale key would be read on every sale
		t.Fatalf("the in-memory index holds %d keys, want %d", n, len(want))
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j = open(t, dir)
	defer j.Close()
	if got := pendingKeys(t, j, Key{}); !slices.Equal(got, want) {
		t.Fatalf("pending after reopening = %v, want %v", got, want)
	}
}
