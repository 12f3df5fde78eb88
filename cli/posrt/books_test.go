package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The books commands against a real posrt run holding the data directory:
// they read through its ECR API (never a second writer); verify and the
// direct reads wait for it to stop; cache clear goes through the running
// terminal, refused while the batch is unsettled unless confirmed.
func TestBooksCommandsBesideARunningPosrt(t *testing.T) {
	bin := posrtBinary(t)
	data := t.TempDir()
	p := startPosrt(t, bin, data)
	for _, body := range []string{`{"amount": 1000}`, `{"amount": 1251}`, `{"amount": 880, "auth_code": "134567890123456789"}`} {
		if status, out := p.post(t, body); status != 200 {
			t.Fatalf("sale %s: %d %v", body, status, out)
		}
	}
	out, err := runPosrt(t, bin, "journal", "list", "--data-dir", data, "--kind", "sale")
	if err != nil || strings.Count(out, "sale") < 3 || !strings.Contains(out, "declined") {
		t.Fatalf("journal list through the API: %v\n%s", err, out)
	}
	csvPath := filepath.Join(t.TempDir(), "books.csv")
	if out, err := runPosrt(t, bin, "journal", "export", "--data-dir", data, "--format", "csv", "--out", csvPath); err != nil {
		t.Fatalf("journal export through the API: %v\n%s", err, out)
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1 // the records, then the totals
	rows, err := r.ReadAll()
	f.Close()
	if err != nil {
		t.Fatalf("export is not CSV: %v", err)
	}
	if b, _ := os.ReadFile(csvPath); !strings.Contains(string(b), "10.00") || !strings.Contains(string(b), "8.80") || len(rows) < 4 {
		t.Fatalf("export lacks the sales (%d rows):\n%q", len(rows), b)
	}
	if out, err := runPosrt(t, bin, "journal", "verify", "--data-dir", data); err == nil || !strings.Contains(out, "stop posrt run first") {
		t.Fatalf("verify beside a running posrt: %v\n%s", err, out)
	}
	if out, err := runPosrt(t, bin, "cache", "clear", "--data-dir", data, "--supervisor-password", "123456"); err == nil || !strings.Contains(out, "not_clearable") {
		t.Fatalf("cache clear of an unsettled batch: %v\n%s", err, out)
	}
	if out, err := runPosrt(t, bin, "cache", "clear", "--data-dir", data, "--supervisor-password", "000000", "--confirm"); err == nil || !strings.Contains(out, "wrong_password") {
		t.Fatalf("cache clear with a wrong password: %v\n%s", err, out)
	}
	out, err = runPosrt(t, bin, "cache", "clear", "--data-dir", data, "--supervisor-password", "123456", "--confirm")
	if err != nil || !strings.Contains(out, "cleared: 4 records exported to "+filepath.Join(data, "exports")) {
		t.Fatalf("cache clear confirmed: %v\n%q", err, out)
	}
	st, _ := p.status(t)
	if st.NextTrace != "000005" {
		t.Fatalf("next trace %s after the clear, want 000005: counters never restart", st.NextTrace)
	}
	// Stopped, the journal is read directly and verifies clean.
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err = runPosrt(t, bin, "journal", "verify", "--data-dir", data)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("verify after posrt stopped: %v\n%s", err, out)
	}
}
