package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/runtime/money"
)

func open(t *testing.T, dir string) *Journal {
	t.Helper()
	j, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func intent(amount int64) Intent {
	return Intent{TID: "12345678", MID: "123456789012345", Kind: KindSale, Medium: MediumCard, Amount: money.Fen(amount), MaskedPAN: "622202******0128", EntryMode: "insert"}
}

func TestBeginFinishAndReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	j := open(t, dir)
	var keys []Key
	for i := 1; i <= 3; i++ {
		rec, err := j.Begin(ctx, intent(int64(i*100)))
		if err != nil {
			t.Fatal(err)
		}
		if rec.State != StateCreated || rec.Batch != "000001" || rec.Trace != fmt.Sprintf("%06d", i) {
			t.Fatalf("record %d = %+v", i, rec)
		}
		keys = append(keys, rec.Key())
	}
	if _, err := j.Move(ctx, keys[0], Change{To: StateApproved, HostCode: "00", RRN: "000000000001"}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Move(ctx, keys[0], Change{To: StateDeclined}); err == nil {
		t.Fatal("a final record accepted a second outcome")
	}
	if _, err := j.Move(ctx, keys[1], Change{To: StateCreated}); err == nil {
		t.Fatal("created accepted as an outcome")
	}
	if _, err := j.Move(ctx, keys[2], Change{To: StateUnknown}); err != nil {
		t.Fatal(err)
	}
	pending, err := j.Pending()
	if err != nil || len(pending) != 2 || pending[0].Key() != keys[1] || pending[1].Key() != keys[2] {
		t.Fatalf("pending = %+v, %v; want the created and the unknown record", pending, err)
	}
	if _, err := j.Move(ctx, keys[2], Change{To: StateReversed, HostCode: "00"}); !errors.Is(err, ErrIllegalMove) {
		t.Fatalf("unknown moved straight to reversed: %v", err)
	}
	if _, err := j.Move(ctx, keys[2], Change{To: StateReversalPending, ReversalReason: "98"}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Move(ctx, keys[2], Change{To: StateReversed, HostCode: "00"}); err != nil {
		t.Fatalf("reversing an unknown record: %v", err)
	}
	if _, err := j.Move(ctx, keys[2], Change{To: StateApproved}); err == nil {
		t.Fatal("a reversed record accepted another outcome")
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	j = open(t, dir)
	defer j.Close()
	recs, err := j.List()
	if err != nil || len(recs) != 3 {
		t.Fatalf("after reopen: %d records, %v", len(recs), err)
	}
	if recs[0].State != StateApproved || recs[0].RRN != "000000000001" || recs[1].State != StateCreated {
		t.Fatalf("records after reopen: %+v", recs)
	}
	if pending, err := j.Pending(); err != nil || len(pending) != 1 || pending[0].Key() != keys[1] {
		t.Fatalf("pending after reopen = %+v, %v; want the created record only", pending, err)
	}
	c, err := j.Counters()
	if err != nil || c.NextTrace != "000004" {
		t.Fatalf("counters after reopen = %+v, %v", c, err)
	}
	rec, err := j.Begin(ctx, intent(1))
	if err != nil || rec.Trace != "000004" {
		t.Fatalf("trace after reopen = %q, %v", rec.Trace, err)
	}
	if _, err := j.Get(Key{TID: "12345678", Batch: "000001", Trace: "999999"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get unknown = %v", err)
	}
}

func TestRefusesBadIntents(t *testing.T) {
	j := open(t, t.TempDir())
	defer j.Close()
	bad := map[string]func(*Intent){
		"clear PAN":    func(i *Intent) { i.MaskedPAN = "6222020000040128" },
		"zero amount":  func(i *Intent) { i.Amount = 0 },
		"short TID":    func(i *Intent) { i.TID = "1234" },
		"long MID":     func(i *Intent) { i.MID = "1234567890123456" },
		"no medium":    func(i *Intent) { i.Medium = "" },
		"partial mask": func(i *Intent) { i.MaskedPAN = "62220200****0128" + "1" },
	}
	for name, mutate := range bad {
		in := intent(100)
		mutate(&in)
		if _, err := j.Begin(context.Background(), in); err == nil {
			t.Errorf("%s: Begin accepted %+v", name, in)
		}
	}
	recs, _ := j.List()
	c, _ := j.Counters()
	if len(recs) != 0 || c.NextTrace != "000001" {
		t.Fatalf("refused intents left state: %d records, counters %+v", len(recs), c)
	}
}

func TestBatchNeverGoesBackwards(t *testing.T) {
	j := open(t, t.TempDir())
	defer j.Close()
	for _, c := range []struct{ in, want string }{{"000005", "000005"}, {"000003", "000005"}, {"000006", "000006"}} {
		got, err := j.AdoptBatch(c.in)
		if err != nil || got != c.want {
			t.Fatalf("AdoptBatch(%s) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "12", "abcdef", "000000"} {
		if _, err := j.AdoptBatch(bad); err == nil {
			t.Errorf("AdoptBatch(%q) accepted", bad)
		}
	}
	rec, err := j.Begin(context.Background(), intent(1))
	if err != nil || rec.Batch != "000006" {
		t.Fatalf("Begin after AdoptBatch: %+v %v", rec, err)
	}
}

func TestTraceWraps(t *testing.T) {
	if nextTrace(999999) != 1 || nextTrace(0) != 1 || nextTrace(41) != 42 {
		t.Fatal("trace sequence wrong")
	}
}

// TestCrashKeepsEverySyncedIntent runs a child process that journals intents
// as fast as it can and prints each trace after Begin returns; the child is
// killed with SIGKILL mid-stream. Every trace it printed must be on disk,
// and the counter must continue after the highest one. This proves the
// journal survives a crash of the process only: the kernel's page cache
// outlives a SIGKILL, so it passes without synced writes too. Surviving a
// power cut is TestPowerLossKeepsEverySyncedRecord's job.
func TestCrashKeepsEverySyncedIntent(t *testing.T) {
	if os.Getenv("POSRT_JOURNAL_CRASH_CHILD") != "" {
		j, err := Open(os.Getenv("POSRT_JOURNAL_CRASH_CHILD"), Options{})
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		for {
			rec, err := j.Begin(context.Background(), intent(100))
			if err != nil {
				fmt.Println("ERR", err)
				os.Exit(1)
			}
			fmt.Println(rec.Trace)
		}
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestCrashKeepsEverySyncedIntent$")
	cmd.Env = append(os.Environ(), "POSRT_JOURNAL_CRASH_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var printed []string
	buf := make([]byte, 4096)
	var acc strings.Builder
	deadline := time.Now().Add(20 * time.Second)
	for len(printed) < 40 && time.Now().Before(deadline) {
		n, err := out.Read(buf)
		acc.Write(buf[:n])
		lines := strings.Split(acc.String(), "\n")
		printed = lines[:len(lines)-1]
		if err != nil {
			break
		}
	}
	_ = cmd.Process.Kill() // SIGKILL
	_ = cmd.Wait()
	if len(printed) < 40 {
		t.Fatalf("child printed only %d traces: %q", len(printed), acc.String())
	}
	j := open(t, dir)
	defer j.Close()
	for _, tr := range printed {
		if _, err := j.Get(Key{TID: "12345678", Batch: "000001", Trace: tr}); err != nil {
			t.Fatalf("trace %s was acknowledged but is not on disk after SIGKILL: %v", tr, err)
		}
	}
	last, _ := strconv.Atoi(printed[len(printed)-1])
	rec, err := j.Begin(context.Background(), intent(1))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := strconv.Atoi(rec.Trace); n <= last {
		t.Fatalf("trace after crash %s does not follow the last acknowledged %06d", rec.Trace, last)
	}
}

// A sale journaled undecided takes its medium once, while created, and
// keeps it across a reopen; the books file it under that medium.
func TestDecideSetsTheMediumOnce(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	j := open(t, dir)
	in := Intent{TID: "12345678", MID: "123456789012345", Kind: KindSale, Medium: MediumUndecided, Amount: 500}
	rec, err := j.Begin(ctx, in)
	if err != nil || rec.Medium != MediumUndecided {
		t.Fatalf("undecided intent: %+v, %v", rec, err)
	}
	for _, m := range []Medium{MediumCash, MediumUndecided, "paypal"} {
		if _, err := j.Decide(ctx, rec.Key(), m); !errors.Is(err, ErrInvalidIntent) {
			t.Errorf("decided as %q: %v", m, err)
		}
	}
	if rec, err = j.Decide(ctx, rec.Key(), MediumAlipay); err != nil || rec.Medium != MediumAlipay || rec.State != StateCreated {
		t.Fatalf("decided: %+v, %v", rec, err)
	}
	if _, err := j.Decide(ctx, rec.Key(), MediumCard); !errors.Is(err, ErrIllegalMove) {
		t.Fatalf("decided twice: %v", err)
	}
	if _, err := j.Move(ctx, rec.Key(), Change{To: StateApproved, OrderNo: "P1"}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j = open(t, dir)
	defer j.Close()
	got, err := j.Get(rec.Key())
	if err != nil || got.Medium != MediumAlipay {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	day, err := j.Summarize(ctx, PeriodDay, got.CreatedAt)
	if err != nil {
		t.Fatal(err)
	}
	var alipay int64
	for _, tot := range day.Totals {
		if tot.Medium == MediumAlipay {
			alipay = int64(tot.SaleAmount)
		}
	}
	if alipay != 500 {
		t.Fatalf("the day's Alipay sales are %d fen, want 500: %+v", alipay, day.Totals)
	}
	// Only a sale waits to be decided; an approved one is not decided again.
	if _, err := j.Begin(ctx, Intent{TID: "12345678", MID: "123456789012345", Kind: KindRefund, Medium: MediumUndecided, Amount: 1, Original: rec.Key()}); !errors.Is(err, ErrInvalidIntent) {
		t.Fatalf("undecided refund: %v", err)
	}
	if _, err := j.Decide(ctx, rec.Key(), MediumCard); !errors.Is(err, ErrIllegalMove) {
		t.Fatalf("an approved sale decided again: %v", err)
	}
}
