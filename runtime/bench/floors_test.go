package bench

import "testing"

// The floors measure real work: each returns a positive mean and no error.
func TestFloorsMeasure(t *testing.T) {
	dir := t.TempDir()
	if d, err := SyncedAppends(dir, 5); err != nil || d <= 0 {
		t.Fatalf("SyncedAppends = %v, %v", d, err)
	}
	if d, err := UnixRoundTrips(dir, 50); err != nil || d <= 0 {
		t.Fatalf("UnixRoundTrips = %v, %v", d, err)
	}
}
