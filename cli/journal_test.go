package cli

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/posrt/posrt/runtime/books/bookstest"
	"github.com/posrt/posrt/runtime/journal"
)

// journalDir is a data directory holding two settled days of records.
func journalDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	c := &bookstest.Clock{}
	j, err := journal.Open(filepath.Join(dir, "journal"), journal.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bookstest.Build(context.Background(), j, c, time.Date(2026, 4, 1, 0, 0, 0, 0, time.Local), 2, 30); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestJournalCommandsWithTheLockFree(t *testing.T) {
	dir := journalDir(t)
	ctx := context.Background()
	code, out, errOut := runApp(t, ctx, "journal", "list", "--data-dir", dir, "--from", "2026-04-02", "--to", "2026-04-02", "--medium", "card", "--limit", "5")
	if code != 0 || strings.Count(out, "\n") != 6 || !strings.Contains(out, "2026-04-02") || strings.Contains(out, "2026-04-01") {
		t.Fatalf("list: %d %q %q", code, out, errOut)
	}
	code, out, errOut = runApp(t, ctx, "journal", "show", "--data-dir", dir, "000005")
	if code != 0 || !strings.Contains(out, `"trace": "000005"`) || !strings.Contains(out, bookstest.HostDecline) {
		t.Fatalf("show: %d %q %q", code, out, errOut)
	}
	code, out, errOut = runApp(t, ctx, "journal", "summary", "--data-dir", dir, "--period", "month", "--date", "2026-04-15")
	if code != 0 || !strings.Contains(out, "month from 2026-04-01 to 2026-04-30") || !strings.Contains(out, "card") {
		t.Fatalf("summary: %d %q %q", code, out, errOut)
	}
	file := filepath.Join(dir, "books.csv")
	code, out, errOut = runApp(t, ctx, "journal", "export", "--data-dir", dir, "--format", "csv", "--out", file)
	if code != 0 || !strings.Contains(out, "exported 62 records") || !strings.Contains(errOut, "exporting: 62 records") {
		t.Fatalf("export: %d %q %q", code, out, errOut)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	f.Close()
	if err != nil || len(rows) < 63 {
		t.Fatalf("the exported file: %d rows, %v", len(rows), err)
	}
	code, out, errOut = runApp(t, ctx, "journal", "verify", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "no breach") {
		t.Fatalf("verify: %d %q %q", code, out, errOut)
	}
}

// TestJournalCommandsWithTheLockHeld: with posrt holding the lock and no
// ECR API answering, the commands refuse and say how; verify says to stop
// posrt first.
func TestJournalCommandsWithTheLockHeld(t *testing.T) {
	dir := journalDir(t)
	f, err := os.OpenFile(filepath.Join(dir, "posrt.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runApp(t, context.Background(), "journal", "verify", "--data-dir", dir)
	if code != 1 || !strings.Contains(errOut, "stop posrt run first") {
		t.Fatalf("verify with the lock held: %d %q", code, errOut)
	}
	// Nothing listens on the default profile's ECR address in this test.
	code, _, errOut = runApp(t, context.Background(), "journal", "list", "--data-dir", dir)
	if code != 1 || !strings.Contains(errOut, "does not answer") || !strings.Contains(errOut, "ecr.addr") {
		t.Fatalf("list with the lock held and no API: %d %q", code, errOut)
	}
}
