package fake

import (
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/plugins/printer/printertest"
	"github.com/posrt/posrt/plugins/printer/render"
)

// connect returns a Fake configured with config and its gRPC client.
func connect(t *testing.T, config map[string]string) (*Fake, printer.Printer) {
	t.Helper()
	f := NewFake()
	p := printertest.Connect(t, f)
	if err := p.Configure(context.Background(), printer.APIVersion1, config); err != nil {
		t.Fatalf("Configure(%v): %v", config, err)
	}
	return f, p
}

var jobs int

// receipt returns a job with a fresh ID printing text.
func receipt(text string) printer.Job {
	jobs++
	return printer.Job{ID: printer.JobID(fmt.Sprintf("test/%d/%s", jobs, text)), Document: printer.Document{Lines: []printer.Line{{Text: text}}, Cut: true}}
}

func TestFakeConditionsRefuse(t *testing.T) {
	for _, tc := range []struct {
		conditions string
		want       error
		drawer     error
	}{
		{"paper_out", printer.ErrPaperOut, nil},
		{"cover_open", printer.ErrCoverOpen, nil},
		{"paper_jam", printer.ErrPaperJam, nil},
		{"head_overheat", printer.ErrHeadOverheat, nil},
		{"offline", printer.ErrOffline, printer.ErrOffline},
		{"paper_near_end,cover_open", printer.ErrCoverOpen, nil},
		{"drawer_open, paper_out ,cover_open", printer.ErrCoverOpen, nil}, // reported in the contract's order
	} {
		t.Run(tc.conditions, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "paper.txt")
			f, p := connect(t, map[string]string{"conditions": tc.conditions, "output": out})
			ctx := context.Background()
			if err := p.Print(ctx, receipt("SALE")); !errors.Is(err, tc.want) {
				t.Errorf("Print: err = %v, want %v", err, tc.want)
			}
			if err := p.OpenDrawer(ctx); !errors.Is(err, tc.drawer) {
				t.Errorf("OpenDrawer: err = %v, want %v", err, tc.drawer)
			}
			if got := f.Printed(); len(got) != 0 || f.Receipts() != 0 {
				t.Errorf("Printed = %v after a failed Print", got)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("output file: %v, want none written", err)
			}
			st, err := p.Status(ctx)
			if err != nil || st.Ready() {
				t.Fatalf("Status = %v, %v; want not ready", st, err)
			}
			var want []string
			for _, c := range strings.Split(tc.conditions, ",") {
				want = append(want, strings.TrimSpace(c))
			}
			var got []string
			for _, c := range st.Conditions {
				got = append(got, string(c))
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("Status conditions = %q, want %q", got, want)
			}
			if h, err := p.Health(ctx); err != nil || h.State != base.StateError || h.Detail != joinConditions(st.Conditions) {
				t.Errorf("Health = %+v, %v; want error with detail %s", h, err, joinConditions(st.Conditions))
			}
		})
	}
}

func TestFakeWarningsStillPrint(t *testing.T) {
	f, p := connect(t, map[string]string{"conditions": "paper_near_end,drawer_open"})
	ctx := context.Background()
	st, err := p.Status(ctx)
	if err != nil || !st.Ready() || !st.Has(printer.ConditionPaperNearEnd) || !st.Has(printer.ConditionDrawerOpen) {
		t.Fatalf("Status = %v, %v; want ready with both warnings", st, err)
	}
	if err := p.Print(ctx, receipt("SALE")); err != nil || f.Receipts() != 1 {
		t.Errorf("Print with warnings: %v, %d printed", err, f.Receipts())
	}
	if h, err := p.Health(ctx); err != nil || h.State != base.StateIdle || h.Detail != "paper_near_end,drawer_open" {
		t.Errorf("Health = %+v, %v; want idle with the warnings as detail", h, err)
	}
}

func TestFakeJobIDs(t *testing.T) {
	out := filepath.Join(t.TempDir(), "paper.txt")
	f, p := connect(t, map[string]string{"output": out})
	ctx := context.Background()
	job := receipt("SALE")
	for range 3 {
		if err := p.Print(ctx, job); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.Receipts(); n != 1 {
		t.Errorf("the same job printed %d times, want once", n)
	}
	if b, _ := os.ReadFile(out); strings.Count(string(b), "SALE") != 1 {
		t.Errorf("output file has %q, want the receipt once", b)
	}
	// The same document under another ID is a reprint.
	reprint := printer.Job{ID: job.ID + "/reprint", Document: job.Document}
	if err := p.Print(ctx, reprint); err != nil || f.Receipts() != 2 {
		t.Errorf("reprint: %v, %d printed; want 2", err, f.Receipts())
	}
	if err := p.Print(ctx, printer.Job{Document: job.Document}); !errors.Is(err, printer.ErrBadJob) || f.Receipts() != 2 {
		t.Errorf("job without an ID: err = %v, %d printed; want printer.ErrBadJob", err, f.Receipts())
	}
	// A job refused is not remembered: it prints once the cover is shut.
	f.SetConditions(printer.ConditionCoverOpen)
	late := receipt("LATE")
	if err := p.Print(ctx, late); !errors.Is(err, printer.ErrCoverOpen) {
		t.Fatalf("Print with the cover open: %v", err)
	}
	f.SetConditions()
	if err := p.Print(ctx, late); err != nil || f.Receipts() != 3 {
		t.Errorf("Print after the cover was shut: %v, %d printed; want 3", err, f.Receipts())
	}
	// A printed job stays printed even when the paper has run out since.
	f.SetConditions(printer.ConditionPaperOut)
	if err := p.Print(ctx, late); err != nil || f.Receipts() != 3 {
		t.Errorf("retry of a printed job with no paper: %v, %d printed; want nil and 3", err, f.Receipts())
	}
}

func TestFakeMemoryIsBounded(t *testing.T) {
	f := NewFake()
	ctx := context.Background()
	first := printer.Job{ID: "job-0", Document: printer.Document{Lines: []printer.Line{{Text: "0"}}}}
	if err := f.Print(ctx, first); err != nil {
		t.Fatal(err)
	}
	const n = 3 * RememberedJobs
	for i := 1; i < n; i++ {
		if err := f.Print(ctx, printer.Job{ID: printer.JobID(fmt.Sprintf("job-%d", i)), Document: printer.Document{Lines: []printer.Line{{Text: strconv.Itoa(i)}}}}); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.seen) != RememberedJobs || len(f.seenOrder) != RememberedJobs || len(f.kept) != KeptJobs {
		t.Errorf("after %d jobs: %d IDs remembered (%d in order), %d jobs kept; want %d and %d", n, len(f.seen), len(f.seenOrder), len(f.kept), RememberedJobs, KeptJobs)
	}
	got := f.Printed()
	if len(got) != KeptJobs || got[0].ID != printer.JobID(fmt.Sprintf("job-%d", n-KeptJobs)) || got[KeptJobs-1].ID != printer.JobID(fmt.Sprintf("job-%d", n-1)) {
		t.Errorf("Printed holds %d jobs from %s to %s, want the last %d", len(got), got[0].ID, got[len(got)-1].ID, KeptJobs)
	}
	// The last RememberedJobs IDs are still recognised; older ones are not.
	if err := f.Print(ctx, printer.Job{ID: printer.JobID(fmt.Sprintf("job-%d", n-RememberedJobs))}); err != nil || f.Receipts() != n {
		t.Errorf("retry of a remembered job: %v, %d printed; want %d", err, f.Receipts(), n)
	}
	if err := f.Print(ctx, first); err != nil || f.Receipts() != n+1 {
		t.Errorf("retry of a forgotten job: %v, %d printed; want it printed again (%d)", err, f.Receipts(), n+1)
	}
}

func TestFakePaperRunsOut(t *testing.T) {
	f, p := connect(t, map[string]string{"paper": "2"})
	ctx := context.Background()
	for _, text := range []string{"first", "second"} {
		if err := p.Print(ctx, receipt(text)); err != nil {
			t.Fatalf("Print %s: %v", text, err)
		}
	}
	if err := p.Print(ctx, receipt("third")); !errors.Is(err, printer.ErrPaperOut) {
		t.Errorf("third Print: err = %v, want printer.ErrPaperOut", err)
	}
	if st, err := p.Status(ctx); err != nil || !st.Has(printer.ConditionPaperOut) || st.Ready() {
		t.Errorf("Status = %v, %v; want paper_out", st, err)
	}
	var texts []string
	for _, j := range f.Printed() {
		texts = append(texts, j.Document.Lines[0].Text)
	}
	if !slices.Equal(texts, []string{"first", "second"}) {
		t.Errorf("printed %q, want first and second", texts)
	}
	// Loading paper is configuring again.
	if err := p.Configure(ctx, printer.APIVersion1, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Print(ctx, receipt("reprint")); err != nil {
		t.Errorf("Print after paper was loaded: %v", err)
	}
	if n := len(f.Printed()); n != 3 {
		t.Errorf("%d documents printed in all, want 3", n)
	}
}

func TestFakeNoPaper(t *testing.T) {
	_, p := connect(t, map[string]string{"paper": "0"})
	if st, err := p.Status(context.Background()); err != nil || !slices.Equal(st.Conditions, []printer.Condition{printer.ConditionPaperOut}) {
		t.Errorf("Status = %v, %v; want paper_out", st, err)
	}
}

func TestFakeNoDrawer(t *testing.T) {
	f, p := connect(t, map[string]string{"drawer": "false"})
	ctx := context.Background()
	if err := p.OpenDrawer(ctx); !errors.Is(err, printer.ErrNoDrawer) {
		t.Errorf("OpenDrawer: err = %v, want printer.ErrNoDrawer", err)
	}
	if err := p.Print(ctx, receipt("cash sale")); err != nil {
		t.Errorf("Print without a drawer: %v", err)
	}
	if f.DrawerOpens() != 0 || len(f.Printed()) != 1 {
		t.Errorf("DrawerOpens %d, Printed %d; want 0 and 1", f.DrawerOpens(), len(f.Printed()))
	}
}

func TestFakePrinted(t *testing.T) {
	f, p := connect(t, nil)
	job := printer.Job{ID: "merchant-copy", Document: printertest.ConformanceReceipt()}
	if err := p.Print(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	got := f.Printed()
	if len(got) != 1 || !reflect.DeepEqual(got[0], job) {
		t.Fatalf("Printed = %+v, want [%+v]", got, job)
	}
	got[0].Document.Lines[0].Text = "changed"
	if f.Printed()[0].Document.Lines[0].Text != job.Document.Lines[0].Text {
		t.Error("Printed returns the fake's own slice")
	}
}

func TestFakeOutputFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "paper.txt")
	_, p := connect(t, map[string]string{"output": out})
	ctx := context.Background()
	if err := p.Print(ctx, printer.Job{ID: "1", Document: printertest.ConformanceReceipt()}); err != nil {
		t.Fatal(err)
	}
	if err := p.Print(ctx, printer.Job{ID: "2", Document: printer.Document{Lines: []printer.Line{{Text: "DUPLICATE", Align: printer.AlignRight}}}}); err != nil {
		t.Fatal(err)
	}
	// Columns:   "12345678901234567890123456789012"
	want := "" +
		"           P O S R T\n" +
		"     MERCHANT COPY 商户存根\n" +
		"TID 10000001  MID 89831004899000\n" +
		"1\n" +
		"S A L E\n" +
		"             AMOUNT: 123.45 yuan\n" +
		"[QR] https://example.com/r/000001000002\n" +
		"--------------------------------\n" +
		"   CARDHOLDER COPY 持卡人存根\n" +
		"--------------------------------\n" +
		"                       DUPLICATE\n"
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("output file:\n%s\nwant:\n%s", got, want)
	}
}

func TestFakeRejectsBadDocument(t *testing.T) {
	f, p := connect(t, nil)
	for _, l := range []printer.Line{{Text: "x", Align: "middle"}, {Text: "x", Size: "huge"}} {
		job := printer.Job{ID: "bad", Document: printer.Document{Lines: []printer.Line{{Text: "fine"}, l}}}
		if err := p.Print(context.Background(), job); err == nil {
			t.Errorf("Print accepted %+v", l)
		}
	}
	if n := len(f.Printed()); n != 0 {
		t.Errorf("%d documents printed, want none", n)
	}
}

func TestFakeRejectsBadConfig(t *testing.T) {
	f, p := connect(t, map[string]string{"drawer": "false"})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "paper.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ key, value string }{
		{"conditions", "jammed"},
		{"conditions", "paper_out,ok"},
		{"status", "ok"},
		{"paper", "-1"},
		{"paper", "lots"},
		{"drawer", "yes"},
		{"output", filepath.Join(dir, "missing", "paper.txt")},
		{"output", dir},
		{"png_dir", filepath.Join(dir, "missing")},
		{"png_dir", filepath.Join(dir, "paper.txt")},
		{"latency", "soon"},
		{"crash_after", "0"},
		{"colour", "red"},
	} {
		err := p.Configure(context.Background(), printer.APIVersion1, map[string]string{tc.key: tc.value})
		if err == nil || !strings.Contains(err.Error(), "config key "+tc.key) {
			t.Errorf("Configure(%s=%q): err = %v, want an error naming the key", tc.key, tc.value, err)
		}
	}
	if err := p.Configure(context.Background(), "v999", nil); err == nil {
		t.Error("Configure accepted API version v999")
	}
	// The rejected configurations changed nothing.
	if err := p.OpenDrawer(context.Background()); !errors.Is(err, printer.ErrNoDrawer) || f.DrawerOpens() != 0 {
		t.Errorf("OpenDrawer after rejected configurations: %v, want printer.ErrNoDrawer", err)
	}
}

func TestFakeInfo(t *testing.T) {
	info, err := NewFake().Info(context.Background())
	if err != nil || info.Kind != base.KindPrinter || info.Name != "fake-printer" || !slices.Equal(info.APIVersions, printer.APIVersions) {
		t.Errorf("Info = %+v, %v", info, err)
	}
}

func TestFakeCrashAfter(t *testing.T) {
	f := NewFake()
	var exits basetest.Exits
	f.faults.Exit = exits.Exit
	p := printertest.Connect(t, f)
	ctx := context.Background()
	if err := p.Configure(ctx, printer.APIVersion1, map[string]string{"crash_after": "2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Status(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Health(ctx); err != nil { // not a device call
		t.Fatal(err)
	}
	if err := p.Print(ctx, receipt("x")); err != nil {
		t.Fatal(err)
	}
	if got := exits.Codes(); len(got) != 0 {
		t.Fatalf("exited %v after two device calls", got)
	}
	_ = p.OpenDrawer(ctx)
	if got := exits.Codes(); !slices.Equal(got, []int{2}) {
		t.Errorf("after the third device call: exited %v, want [2]", got)
	}
}
func TestFakeConformance(t *testing.T) {
	for name, config := range map[string]map[string]string{
		"defaults":   nil,
		"configured": {"conditions": "", "paper": "3", "drawer": "true", "output": filepath.Join(t.TempDir(), "paper.txt"), "latency": "1ms"},
	} {
		t.Run(name, func(t *testing.T) {
			f := NewFake()
			printertest.RunConformance(t, printertest.Harness{
				New:           func(*testing.T) printer.Printer { return f },
				Config:        config,
				SetConditions: func(_ printer.Printer, conds ...printer.Condition) { f.SetConditions(conds...) },
				Printed:       func(printer.Printer) int { return f.Receipts() },
			})
		})
	}
}

func TestFakePNGDir(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "paper.txt")
	images := filepath.Join(dir, "png")
	if err := os.Mkdir(images, 0o755); err != nil {
		t.Fatal(err)
	}
	f, p := connect(t, map[string]string{"output": out, "png_dir": images})
	ctx := context.Background()
	merchant := printer.Job{ID: "10000001/000001/000123/print-1", Document: printertest.ConformanceReceipt()}
	dup := printer.Job{ID: "10000001/000001/000123/print-2", Document: printer.Document{Lines: []printer.Line{{Text: "DUPLICATE 重打印", Align: printer.AlignCenter}}, Cut: true}}
	for _, j := range []printer.Job{merchant, dup, merchant} { // the last a retry: printed once
		if err := p.Print(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	// A refused job draws nothing.
	f.SetConditions(printer.ConditionCoverOpen)
	if err := p.Print(ctx, printer.Job{ID: "refused", Document: dup.Document}); !errors.Is(err, printer.ErrCoverOpen) {
		t.Fatalf("Print with the cover open: %v", err)
	}
	names, err := filepath.Glob(filepath.Join(images, "*"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(images, "10000001_000001_000123_print-1.png"), filepath.Join(images, "10000001_000001_000123_print-2.png")}
	if !slices.Equal(names, want) {
		t.Fatalf("png_dir holds %q, want %q", names, want)
	}
	for i, j := range []printer.Job{merchant, dup} {
		fh, err := os.Open(names[i])
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(fh)
		_ = fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", names[i], err)
		}
		wantImg, err := render.Image(j.Document, render.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds() != wantImg.Bounds() || img.Bounds().Dx() != render.Dots {
			t.Errorf("%s is %v, want %v, %d dots wide", names[i], img.Bounds(), wantImg.Bounds(), render.Dots)
			continue
		}
		for y := 0; y < img.Bounds().Dy(); y++ {
			for x := 0; x < render.Dots; x++ {
				if r, _, _, _ := img.At(x, y).RGBA(); (r < 0x8000) != (wantImg.ColorIndexAt(x, y) == 1) {
					t.Fatalf("%s differs from the rendered job at (%d, %d)", names[i], x, y)
				}
			}
		}
	}
	text, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if wantText := render.Text(merchant.Document, Columns) + render.Text(dup.Document, Columns); string(text) != wantText {
		t.Errorf("output file:\n%s\nwant:\n%s", text, wantText)
	}
}

func TestPNGName(t *testing.T) {
	for id, want := range map[printer.JobID]string{
		"10000001/000001/000123/print-1": "10000001_000001_000123_print-1.png",
		"../../etc/passwd":               "______etc_passwd.png",
		"票据 1":                           "_______1.png",
	} {
		if got := PNGName(id); got != want {
			t.Errorf("PNGName(%q) = %q, want %q", id, got, want)
		}
	}
}
