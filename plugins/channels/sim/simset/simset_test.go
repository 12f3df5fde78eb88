package simset

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStartExpandAndClose(t *testing.T) {
	dir := t.TempDir()
	term := Terminal{TID: "12345678", MID: "898310048990001"}
	if _, err := Start(context.Background(), term, dir, []Spec{{Kind: Acquirer}, {Kind: Acquirer}}); err == nil || !strings.Contains(err.Error(), "a second acquirer simulator") {
		t.Fatalf("two acquirers: %v", err)
	}
	if _, err := Start(context.Background(), term, dir, []Spec{{Kind: "paypal"}}); err == nil || !strings.Contains(err.Error(), `no simulator "paypal" (simulators: acquirer, alipay, unionpay_qr, wechat)`) {
		t.Fatalf("unknown kind: %v", err)
	}
	s, err := Start(context.Background(), term, dir, []Spec{{Kind: Acquirer, Ledger: filepath.Join(dir, "a.jsonl")}})
	if err != nil {
		t.Fatal(err)
	}
	acq := s.Sims()[0]
	got, err := s.Expand("tcp {sim.acquirer} key {sim.acquirer.tmk_file} {data}")
	if want := "tcp " + acq.Addr + " key " + filepath.Join(dir, "acquirer-tmk") + " {data}"; err != nil || got != want {
		t.Fatalf("Expand = %q, %v; want %q", got, err, want)
	}
	if _, err := s.Expand("{sim.wechat}"); err == nil || !strings.Contains(err.Error(), "no wechat simulator is running") {
		t.Fatalf("a simulator not running: %v", err)
	}
	if _, err := s.Expand("{sim.acquirer.nope}"); err == nil || !strings.Contains(err.Error(), `has no "nope"`) {
		t.Fatalf("an unknown name: %v", err)
	}
	if p := Placeholders("{sim.alipay} and {sim.wechat.key_file}"); strings.Join(p, " ") != "alipay wechat.key_file" {
		t.Fatalf("Placeholders = %v", p)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "acquirer-tmk")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the TMK file: %v %v", fi, err)
	}
}

func TestLedgerLines(t *testing.T) {
	dir := t.TempDir()
	if lines, err := Ledger(WeChat, filepath.Join(dir, "none.jsonl")); err != nil || lines != nil {
		t.Fatalf("a missing ledger: %v %v", lines, err)
	}
	path := filepath.Join(dir, "acquirer.jsonl")
	src := `{"op":"sale","time":"2026-12-01T10:00:00Z","tid":"12345678","batch":"000001","trace":"000002","amount":1234,"code":"00","message":"approved","rrn":"000000000001","masked_pan":"622202******0128"}
{"op":"reverse","time":"2026-12-01T10:00:01Z","tid":"12345678","batch":"000001","trace":"000002","reason":"98"}
`
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	lines, err := Ledger(Acquirer, path)
	if err != nil || len(lines) != 2 {
		t.Fatalf("lines %q, %v", lines, err)
	}
	for i, want := range []string{"sale     TID 12345678 batch 000001 trace 000002  RMB 12.34  code 00 (approved)  RRN 000000000001  card 622202******0128",
		"reverse  TID 12345678 batch 000001 trace 000002  reason 98"} {
		if !strings.HasSuffix(lines[i], want) {
			t.Errorf("line %d = %q, want it to end %q", i+1, lines[i], want)
		}
	}
	if _, err := Ledger(Acquirer, writeFile(t, dir, "bad.jsonl", "not json\n{\"op\":\"sale\"}\n")); err == nil {
		t.Error("a malformed ledger line read without error")
	}
}

func writeFile(t *testing.T, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
