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
	for _, c := range []struct {
		kind Kind
		src  string
		want []string // the lines' ends, after the local time
	}{
		{WeChat, `{"op":"order","time":"2026-12-01T10:00:00Z","mch_id":"10000100","out_trade_no":"P1","transaction_id":"42","amount":880,"state":"SUCCESS","masked_code":"1344****0123"}
{"op":"refund","time":"2026-12-01T10:00:01Z","mch_id":"10000100","out_trade_no":"P1","amount":100,"err_code":"NOTENOUGH","out_refund_no":"R1"}
{"op":"order","time":"2026-12-01T10:00:02Z","mch_id":"10000100"}
`, []string{"order    mch 10000100 order P1  RMB 8.80  SUCCESS  transaction 42  code 1344****0123",
			"refund   mch 10000100 order P1  RMB 1.00 NOTENOUGH  refund R1"}},
		{Alipay, `{"op":"order","time":"2026-12-01T10:00:00Z","out_trade_no":"P2","trade_no":"2026","amount":1234,"status":"TRADE_SUCCESS","masked_code":"2888****0123"}
{"op":"cancel","time":"2026-12-01T10:00:01Z","out_trade_no":"P2","sub_code":"ACQ.TRADE_NOT_EXIST"}
`, []string{"order    order P2  RMB 12.34  TRADE_SUCCESS  trade 2026  code 2888****0123",
			"cancel   order P2 ACQ.TRADE_NOT_EXIST"}},
		{UnionPayQR, `{"op":"pay","time":"2026-12-01T10:00:00Z","order_id":"P3","query_id":"Q1","amount":500,"resp_code":"00","masked_code":"6200****0123"}
{"op":"refund","time":"2026-12-01T10:00:01Z","order_id":"P4","amount":200,"orig":"P3"}
`, []string{"pay      order P3  RMB 5.00  code 00  queryId Q1  payment code 6200****0123",
			"refund   order P4  RMB 2.00  of P3"}},
	} {
		lines, err := Ledger(c.kind, writeFile(t, dir, string(c.kind)+".jsonl", c.src))
		if err != nil || len(lines) != len(c.want) {
			t.Fatalf("%s: lines %q, %v; want %d", c.kind, lines, err, len(c.want))
		}
		for i, want := range c.want {
			if !strings.HasSuffix(lines[i], "  "+want) {
				t.Errorf("%s line %d = %q, want it to end %q", c.kind, i+1, lines[i], want)
			}
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
