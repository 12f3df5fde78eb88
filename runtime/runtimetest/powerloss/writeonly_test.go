package powerloss_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/posrt/posrt/runtime/runtimetest/powerloss"
)

// A file opened write-only (as posrt's ECR token file is) can be synced, and
// what was synced survives the cut.
func TestWriteOnlyFileSyncSurvivesCut(t *testing.T) {
	disk := t.TempDir()
	fs := powerloss.MountT(t, disk, powerloss.Options{})
	p := filepath.Join(fs.Dir(), "token")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("secret\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("syncing a write-only file: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	cut(t, fs)
	fs = powerloss.MountT(t, disk, powerloss.Options{})
	if got := content(t, filepath.Join(fs.Dir(), "token")); string(got) != "secret\n" {
		t.Fatalf("after the cut the synced write-only file holds %q", got)
	}
}
