package printertest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/posrt/posrt/plugins/printer/fake"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/printer"
)

// Broken printers RunConformance must fail, each with the step it must
// fail at.
type (
	wrongKind       struct{ *fake.Fake }
	firstCondition  struct{ *fake.Fake }
	rejectsCJK      struct{ *fake.Fake }
	anyAPIVersion   struct{ *fake.Fake }
	printsEveryTime struct {
		*fake.Fake
		n *atomic.Int64
	}
	acceptsNoID  struct{ *fake.Fake }
	ignoresCover struct{ *fake.Fake }
)

func (p wrongKind) Info(ctx context.Context) (base.Info, error) {
	info, err := p.Fake.Info(ctx)
	info.Kind = base.KindScanner
	return info, err
}

// firstCondition reports only the first of the conditions it has.
func (p firstCondition) Status(ctx context.Context) (printer.Status, error) {
	st, err := p.Fake.Status(ctx)
	if len(st.Conditions) > 1 {
		st.Conditions = st.Conditions[:1]
	}
	return st, err
}

// printsEveryTime forgets job IDs: every Print of the same job prints it
// again.
func (p printsEveryTime) Print(ctx context.Context, job printer.Job) error {
	if job.ID != "" {
		job.ID = printer.JobID(fmt.Sprintf("%s#%d", job.ID, p.n.Add(1)))
	}
	return p.Fake.Print(ctx, job)
}

// acceptsNoID makes up an ID for a job without one.
func (p acceptsNoID) Print(ctx context.Context, job printer.Job) error {
	if job.ID == "" {
		job.ID = "made-up"
	}
	return p.Fake.Print(ctx, job)
}

// ignoresCover reports the cover open but prints through it.
func (p ignoresCover) Print(ctx context.Context, job printer.Job) error {
	if st, err := p.Fake.Status(ctx); err == nil && st.Has(printer.ConditionCoverOpen) && len(st.Conditions) == 1 {
		p.Fake.SetConditions()
		defer p.Fake.SetConditions(printer.ConditionCoverOpen)
	}
	return p.Fake.Print(ctx, job)
}

func (p rejectsCJK) Print(ctx context.Context, job printer.Job) error {
	for _, l := range job.Document.Lines {
		for _, r := range l.Text {
			if r >= 0x2E80 { // a wide (CJK) character
				return printer.ErrPaperJam
			}
		}
	}
	return p.Fake.Print(ctx, job)
}

func (p anyAPIVersion) Configure(ctx context.Context, _ string, config map[string]string) error {
	return p.Fake.Configure(ctx, printer.APIVersion1, config)
}

// harness returns the Harness of the Fake that fn wraps.
func harness(fn func(*fake.Fake) printer.Printer, config map[string]string) Harness {
	var f *fake.Fake // the one New made; the suite calls New once
	return Harness{
		New: func(*testing.T) printer.Printer {
			f = fake.NewFake()
			return fn(f)
		},
		Config:        config,
		SetConditions: func(_ printer.Printer, conds ...printer.Condition) { f.SetConditions(conds...) },
		Printed:       func(printer.Printer) int { return f.Receipts() },
	}
}

func brokenPrinters() map[string]basetest.Broken[Harness] {
	plain := func(f *fake.Fake) printer.Printer { return f }
	return map[string]basetest.Broken[Harness]{
		"has its cover open":               {Harness: harness(plain, map[string]string{"conditions": "cover_open"}), Step: "Health"},
		"runs out of paper":                {Harness: harness(plain, map[string]string{"paper": "1"}), Step: "StatusAfterPrint"},
		"has no drawer":                    {Harness: harness(plain, map[string]string{"drawer": "false"}), Step: "OpenDrawer"},
		"claims another kind":              {Harness: harness(func(f *fake.Fake) printer.Printer { return wrongKind{f} }, nil), Step: "Info"},
		"reports one condition of two":     {Harness: harness(func(f *fake.Fake) printer.Printer { return firstCondition{f} }, nil), Step: "SeveralConditionsAtOnce"},
		"prints a retried job again":       {Harness: harness(func(f *fake.Fake) printer.Printer { return printsEveryTime{f, new(atomic.Int64)} }, nil), Step: "RetriedJobPrintsOnce"},
		"prints a job without an ID":       {Harness: harness(func(f *fake.Fake) printer.Printer { return acceptsNoID{f} }, nil), Step: "JobWithoutIDRefused"},
		"prints with its cover open":       {Harness: harness(func(f *fake.Fake) printer.Printer { return ignoresCover{f} }, nil), Step: "Refuses_cover_open"},
		"cannot print Chinese":             {Harness: harness(func(f *fake.Fake) printer.Printer { return rejectsCJK{f} }, nil), Step: "Print"},
		"accepts any API":                  {Harness: harness(func(f *fake.Fake) printer.Printer { return anyAPIVersion{f} }, nil), Step: "ConfigureRejectsUnknownAPIVersion"},
		"prints refused jobs once cleared": {Harness: holdsRefusedJobs(), Step: "RefusedJobPrintsWhenCleared"},
	}
}

// holdsRefusedJobs is a printer that keeps each job a condition refused
// and prints it by itself once the conditions clear, as a printer whose
// driver queued it would.
func holdsRefusedJobs() Harness {
	var f *fake.Fake
	var held []printer.Job
	h := harness(func(ff *fake.Fake) printer.Printer { f = ff; return keepsRefused{ff, &held} }, nil)
	set := h.SetConditions
	h.SetConditions = func(impl printer.Printer, conds ...printer.Condition) {
		set(impl, conds...)
		if len(conds) == 0 {
			for _, j := range held {
				j.ID += "#held"
				_ = f.Print(context.Background(), j)
			}
			held = nil
		}
	}
	return h
}

type keepsRefused struct {
	*fake.Fake
	held *[]printer.Job
}

func (p keepsRefused) Print(ctx context.Context, job printer.Job) error {
	err := p.Fake.Print(ctx, job)
	if err != nil && job.ID != "" {
		*p.held = append(*p.held, job)
	}
	return err
}

// TestConformanceCatchesBrokenPrinters runs RunConformance on each broken
// printer in a child process of the test binary, and checks that it fails
// at the right step.
func TestConformanceCatchesBrokenPrinters(t *testing.T) {
	basetest.RunBroken(t, "a printer", brokenPrinters(), RunConformance)
}
