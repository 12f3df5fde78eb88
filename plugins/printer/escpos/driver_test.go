package escpos_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/plugins/printer/escpos"
	"github.com/posrt/posrt/plugins/printer/escpos/escpostest"
	"github.com/posrt/posrt/plugins/printer/printertest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// driver returns a driver configured with config plus the simulator's
// address.
func driver(t *testing.T, addr string, config map[string]string) *escpos.Driver {
	t.Helper()
	d := escpos.New()
	cfg := map[string]string{"address": addr, "status_timeout": "200ms"}
	for k, v := range config {
		cfg[k] = v
	}
	if err := d.Configure(ctxT(t), printer.APIVersion1, cfg); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return d
}

func noErrors(t *testing.T, sim *escpostest.Simulator) {
	t.Helper()
	if errs := sim.Errors(); len(errs) > 0 {
		t.Errorf("simulator errors: %v", errs)
	}
}

// What the simulator prints is the document, line by line, with its
// attributes, Chinese decoded from GB18030, the QR code with model 2 and
// error level M, and the cuts.
func TestPrintRoundTrip(t *testing.T) {
	sim, addr := escpostest.Start(t)
	d := driver(t, addr, map[string]string{"qr_module_size": "4"})
	doc := printertest.ConformanceReceipt()
	if err := d.Print(ctxT(t), printer.Job{ID: "r1", Document: doc}); err != nil {
		t.Fatalf("Print: %v", err)
	}
	noErrors(t, sim)
	jobs := sim.Jobs()
	if len(jobs) != 1 {
		t.Fatalf("simulator printed %d jobs, want 1", len(jobs))
	}
	want := doc
	want.Lines = slices.Clone(doc.Lines)
	for i, l := range want.Lines { // the simulator reports what the printer does: empty means left and normal
		if l.Cut {
			continue
		}
		if l.Align == "" {
			want.Lines[i].Align = printer.AlignLeft
		}
		if l.Size == "" && l.QR == "" {
			want.Lines[i].Size = printer.SizeNormal
		}
		if l.QR != "" {
			want.Lines[i].Size, want.Lines[i].Bold = "", false
		}
	}
	got := jobs[0]
	if fmt.Sprint(got.Document) != fmt.Sprint(want) {
		t.Errorf("printed\n%+v\nwant\n%+v", got.Document, want)
	}
	if got.Cuts != 2 {
		t.Errorf("cuts = %d, want 2", got.Cuts)
	}
	if len(got.QRs) != 1 || got.QRs[0] != (escpostest.QR{Data: "https://example.com/r/000001000002", Model: 50, Module: 4, Level: 49}) {
		t.Errorf("QR codes = %+v, want one of model 2, module 4, level M", got.QRs)
	}
}

// Paper running out mid-receipt fails the job with ErrPaperOut; the ID is
// not remembered, so the retry, once paper is loaded, prints it whole.
func TestPaperOutMidReceipt(t *testing.T) {
	sim, addr := escpostest.Start(t)
	d := driver(t, addr, nil)
	ctx := ctxT(t)
	job := printer.Job{ID: "mid", Document: printertest.ConformanceReceipt()}
	sim.SetConditionsAfterLines(2, printer.ConditionPaperOut)
	err := d.Print(ctx, job)
	if !errors.Is(err, printer.ErrPaperOut) {
		t.Fatalf("Print with the paper running out = %v, want ErrPaperOut", err)
	}
	if n := len(sim.Jobs()[0].Document.Lines); n != 2 {
		t.Errorf("printed %d lines before the paper ran out, want 2", n)
	}
	if sim.Held() == 0 {
		t.Error("the simulator holds nothing of the rest of the receipt")
	}
	if st, err := d.Status(ctx); err != nil || !st.Has(printer.ConditionPaperOut) {
		t.Errorf("Status = %v, %v; want paper_out", st, err)
	}
	sim.SetConditions() // paper loaded: the printer finishes what it held
	if err := d.Print(ctx, job); err != nil {
		t.Fatalf("retried Print: %v", err)
	}
	jobs := sim.Jobs()
	if len(jobs) != 2 || len(jobs[1].Document.Lines) != len(job.Document.Lines) {
		t.Fatalf("after the retry the simulator has %d jobs, want the stopped one and a whole one", len(jobs))
	}
	noErrors(t, sim)
}

// A condition before the job refuses it and sends nothing.
func TestRefusedJobSendsNothing(t *testing.T) {
	sim, addr := escpostest.Start(t)
	d := driver(t, addr, nil)
	sim.SetConditions(printer.ConditionCoverOpen)
	if err := d.Print(ctxT(t), printer.Job{ID: "x", Document: printertest.ConformanceReceipt()}); !errors.Is(err, printer.ErrCoverOpen) {
		t.Fatalf("Print = %v, want ErrCoverOpen", err)
	}
	if sim.Held() != 0 || sim.Receipts() != 0 {
		t.Errorf("refused job reached the printer: %d held, %d printed", sim.Held(), sim.Receipts())
	}
}

// With state_dir a new driver process (a plugin restart) does not print a
// retried job again; without it, it does (so the file is what matters).
func TestJobIDsSurviveRestart(t *testing.T) {
	sim, addr := escpostest.Start(t)
	dir := t.TempDir()
	ctx := ctxT(t)
	job := printer.Job{ID: "10000001/000001/000007/print-1", Document: printertest.ConformanceReceipt()}
	if err := driver(t, addr, map[string]string{"state_dir": dir}).Print(ctx, job); err != nil {
		t.Fatal(err)
	}
	if err := driver(t, addr, map[string]string{"state_dir": dir}).Print(ctx, job); err != nil {
		t.Fatal(err)
	}
	if n := sim.Receipts(); n != 1 {
		t.Fatalf("printed %d times across a restart, want once", n)
	}
	if err := driver(t, addr, nil).Print(ctx, job); err != nil {
		t.Fatal(err)
	}
	if n := sim.Receipts(); n != 2 {
		t.Fatalf("a driver without state_dir printed %d in all, want 2", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "escpos-jobs")); err != nil {
		t.Errorf("no jobs file: %v", err)
	}
}

func TestRemembersMinRememberedJobs(t *testing.T) {
	sim, addr := escpostest.Start(t)
	d := driver(t, addr, nil)
	ctx := ctxT(t)
	slip := func(i int) printer.Job {
		return printer.Job{ID: printer.JobID(fmt.Sprintf("slip-%d", i)), Document: printer.Document{Lines: []printer.Line{{Text: "x"}}}}
	}
	for i := range printer.MinRememberedJobs {
		if err := d.Print(ctx, slip(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range printer.MinRememberedJobs {
		if err := d.Print(ctx, slip(i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := sim.Receipts(); n != printer.MinRememberedJobs {
		t.Errorf("printed %d, want %d: a retried job printed again", n, printer.MinRememberedJobs)
	}
}

func TestOpenDrawer(t *testing.T) {
	sim, addr := escpostest.Start(t)
	ctx := ctxT(t)
	if err := driver(t, addr, nil).OpenDrawer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := driver(t, addr, map[string]string{"drawer_pin": "5"}).OpenDrawer(ctx); err != nil {
		t.Fatal(err)
	}
	want := []escpostest.Kick{{Pin: 2, On: 50 * time.Millisecond, Off: 500 * time.Millisecond}, {Pin: 5, On: 50 * time.Millisecond, Off: 500 * time.Millisecond}}
	if got := sim.Kicks(); !slices.Equal(got, want) {
		t.Errorf("kicks = %+v, want %+v", got, want)
	}
	if err := driver(t, addr, map[string]string{"drawer": "false"}).OpenDrawer(ctx); !errors.Is(err, printer.ErrNoDrawer) {
		t.Errorf("OpenDrawer without a drawer = %v, want ErrNoDrawer", err)
	}
	sim.SetConditions(printer.ConditionCoverOpen)
	if err := driver(t, addr, nil).OpenDrawer(ctx); !errors.Is(err, printer.ErrCoverOpen) {
		t.Errorf("OpenDrawer with the cover open = %v, want ErrCoverOpen", err)
	}
	if n := len(sim.Kicks()); n != 2 || sim.Held() != 0 {
		t.Errorf("%d kicks and %d held after the refusals, want 2 and 0", n, sim.Held())
	}
}

func TestDrawerOpenLevel(t *testing.T) {
	sim, addr := escpostest.Start(t)
	ctx := ctxT(t)
	for _, low := range []bool{false, true} {
		sim.SetDrawerOpenLow(low)
		level := map[bool]string{false: "high", true: "low"}[low]
		d := driver(t, addr, map[string]string{"drawer_open_level": level})
		for _, open := range []bool{false, true} {
			var conds []printer.Condition
			if open {
				conds = append(conds, printer.ConditionDrawerOpen)
			}
			sim.SetConditions(conds...)
			st, err := d.Status(ctx)
			if err != nil || st.Has(printer.ConditionDrawerOpen) != open || !st.Ready() {
				t.Errorf("level %s, drawer open %v: Status = %v, %v", level, open, st, err)
			}
		}
	}
}

// A printer that does not answer is offline; one unplugged and plugged
// back is picked up again.
func TestOfflineAndBack(t *testing.T) {
	sim, addr := escpostest.Start(t)
	d := driver(t, addr, nil)
	ctx := ctxT(t)
	sim.SetConditions(printer.ConditionOffline)
	if st, err := d.Status(ctx); err != nil || !st.Has(printer.ConditionOffline) {
		t.Errorf("silent printer: Status = %v, %v; want offline", st, err)
	}
	if err := d.Print(ctx, printer.Job{ID: "o", Document: printer.Document{Cut: true}}); !errors.Is(err, printer.ErrOffline) {
		t.Errorf("Print to a silent printer = %v, want ErrOffline", err)
	}
	sim.SetConditions()
	if st, err := d.Status(ctx); err != nil || len(st.Conditions) != 0 {
		t.Errorf("answering again: Status = %v, %v; want ready", st, err)
	}
	_ = sim.Close() // unplugged
	if st, err := d.Status(ctx); err != nil || !st.Has(printer.ConditionOffline) {
		t.Errorf("unplugged: Status = %v, %v; want offline", st, err)
	}
	sim2 := escpostest.New()
	if _, err := sim2.Listen(addr); err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	t.Cleanup(func() { _ = sim2.Close() })
	if err := d.Print(ctx, printer.Job{ID: "o", Document: printer.Document{Cut: true}}); err != nil {
		t.Errorf("Print after plugging back: %v", err)
	}
	if sim2.Receipts() != 1 {
		t.Errorf("the printer plugged back printed %d jobs, want 1", sim2.Receipts())
	}
}

func TestConfigure(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("not a png"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		config map[string]string
		want   string // in the error; "" for none
	}{
		{map[string]string{"address": "10.0.0.5"}, ""},
		{map[string]string{"address": "10.0.0.5:9100", "state_dir": dir, "drawer": "false", "drawer_pin": "5", "drawer_open_level": "low",
			"status_timeout": "300ms", "print_timeout": "10s", "qr_module_size": "8", "cut_feed": "10"}, ""},
		{map[string]string{"device": "/dev/usb/lp0"}, ""},
		{map[string]string{"serial": "/dev/ttyS0", "baud": "9600"}, ""},
		{map[string]string{}, "one of address, device or serial is required"},
		{map[string]string{"address": "h:1", "device": "/dev/usb/lp0"}, "config keys address and device: give only one"},
		{map[string]string{"address": "h:port"}, "config key address"},
		{map[string]string{"address": "h:70000"}, "config key address"},
		{map[string]string{"device": "lp0"}, "config key device"},
		{map[string]string{"serial": "/dev/ttyS0", "baud": "fast"}, "config key baud"},
		{map[string]string{"address": "h:1", "baud": "9600"}, "config key baud: only with serial"},
		{map[string]string{"address": "h:1", "state_dir": file}, "config key state_dir"},
		{map[string]string{"address": "h:1", "drawer_pin": "3"}, "config key drawer_pin"},
		{map[string]string{"address": "h:1", "drawer_open_level": "up"}, "config key drawer_open_level"},
		{map[string]string{"address": "h:1", "status_timeout": "-1s"}, "config key status_timeout"},
		{map[string]string{"address": "h:1", "qr_module_size": "20"}, "config key qr_module_size"},
		{map[string]string{"address": "h:1", "cut_feed": "256"}, "config key cut_feed"},
		{map[string]string{"address": "h:1", "logo": file}, "config key logo: decoding the logo as PNG"},
		{map[string]string{"address": "h:1", "colour": "red"}, "config key colour: unknown to escpos"},
	} {
		err := escpos.New().Configure(context.Background(), printer.APIVersion1, tc.config)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Configure(%v): %v", tc.config, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Configure(%v) = %v, want an error with %q", tc.config, err, tc.want)
		}
	}
	if err := escpos.New().Configure(context.Background(), "v9", map[string]string{"address": "h:1"}); err == nil {
		t.Error("Configure accepted API version v9")
	}
}

// A rejected configuration leaves the driver as it was.
func TestBadConfigureKeepsTheOld(t *testing.T) {
	sim, addr := escpostest.Start(t)
	d := driver(t, addr, nil)
	if err := d.Configure(ctxT(t), printer.APIVersion1, map[string]string{"address": "h:1", "drawer_pin": "9"}); err == nil {
		t.Fatal("Configure accepted drawer_pin 9")
	}
	if err := d.Print(ctxT(t), printer.Job{ID: "k", Document: printer.Document{Cut: true}}); err != nil || sim.Receipts() != 1 {
		t.Errorf("after a rejected Configure: Print = %v, %d printed", err, sim.Receipts())
	}
}

// The driver watches an idle printer's status: a cover opened and closed
// between receipts is a status event each, with no call; a receipt the
// paper running out stopped is an error event.
func TestStatusEvents(t *testing.T) {
	sim, addr := escpostest.Start(t)
	d := driver(t, addr, map[string]string{"status_every": "20ms"})
	ctx := ctxT(t)
	events := make(chan base.Event, 256)
	go func() { _ = d.Watch(ctx, func(e base.Event) error { events <- e; return nil }) }()
	until := func(typ base.EventType, state string, cond printer.Condition) base.Event {
		t.Helper()
		for {
			select {
			case e := <-events:
				if e.Type == typ && e.Health.State == state && (cond == "" || slices.Contains(e.Health.Conditions, string(cond))) {
					return e
				}
			case <-ctx.Done():
				t.Fatalf("no %s event %s %s", typ, state, cond)
			}
		}
	}
	until(base.EventStatus, base.StateIdle, "")
	sim.SetConditions(printer.ConditionCoverOpen)
	if e := until(base.EventStatus, base.StateError, printer.ConditionCoverOpen); e.Health.Detail != "cover_open" {
		t.Errorf("event %+v, want the condition as the detail too", e)
	}
	sim.SetConditions()
	until(base.EventStatus, base.StateIdle, "")
	sim.SetConditionsAfterLines(2, printer.ConditionPaperOut)
	if err := d.Print(ctx, printer.Job{ID: "mid", Document: printertest.ConformanceReceipt()}); !errors.Is(err, printer.ErrPaperOut) {
		t.Fatalf("Print = %v, want ErrPaperOut", err)
	}
	if e := until(base.EventError, base.StateError, printer.ConditionPaperOut); e.ErrorCode != printer.ErrPaperOut.Error() || !strings.Contains(e.ErrorMessage, "mid") {
		t.Errorf("error event %+v, want paper out naming the receipt", e)
	}
	if h, _ := d.Health(ctx); h.State != base.StateError || !slices.Contains(h.Conditions, string(printer.ConditionPaperOut)) {
		t.Errorf("Health = %+v, want error with paper_out", h)
	}
}
