package fake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/internal/faults"
	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/plugins/printer/render"
)

// Columns is the width of the fake's paper in narrow characters, that of a
// 58 mm receipt printer.
const Columns = render.Columns

// RememberedJobs is how many of the most recent printed job IDs the Fake
// remembers to recognise a retry; KeptJobs how many printed jobs it keeps
// for Printed. Older ones are forgotten, so its memory does not grow with
// the receipts printed (the output file, if configured, gets every one).
const (
	RememberedJobs = 256
	KeptJobs       = 64
)

// Fake is an in-memory receipt printer with a cash drawer, whose behaviour
// is set by configuration keys (see plugins/printer/README.md). NewFake
// returns it ready with the default configuration: no condition, unlimited
// paper, a drawer, no output file. It is safe for concurrent use.
type Fake struct {
	// faults injects latency and crashes; tests in this package replace
	// faults.Exit.
	faults faults.Faults

	mon         base.Monitor
	mu          sync.Mutex
	cfg         config
	conds       map[printer.Condition]bool
	paper       int // receipts left; negative: unlimited
	seen        map[printer.JobID]bool
	seenOrder   []printer.JobID // ring of the IDs in seen, at most RememberedJobs
	seenNext    int
	kept        []printer.Job // ring of the last KeptJobs printed
	keptNext    int
	receipts    int
	drawerOpens int
}

var _ printer.Printer = (*Fake)(nil)

type config struct {
	conds  []printer.Condition
	paper  int // negative: unlimited
	drawer bool
	output string
	pngDir string
	font   *render.Font // loaded when pngDir is set
}

// NewFake returns a fake printer with the default configuration. It does
// no I/O.
func NewFake() *Fake {
	f := &Fake{seen: map[printer.JobID]bool{}}
	f.apply(defaultConfig())
	return f
}

func defaultConfig() config {
	return config{paper: -1, drawer: true}
}

// apply installs cfg; f.mu must be held or f unshared.
func (f *Fake) apply(cfg config) {
	defer f.changedLocked()
	f.cfg, f.paper = cfg, cfg.paper
	f.conds = map[printer.Condition]bool{}
	for _, c := range cfg.conds {
		f.conds[c] = true
	}
	if f.paper == 0 {
		f.conds[printer.ConditionPaperOut] = true
	}
}

// fakeInfo is what the Fake's Info reports.
func fakeInfo() base.Info {
	return base.Info{Kind: base.KindPrinter, Name: "fake-printer", Version: "0.2.0", APIVersions: printer.APIVersions}
}

// Info implements base.Base.
func (f *Fake) Info(context.Context) (base.Info, error) { return fakeInfo(), nil }

// Configure implements base.Base. It checks every key before it changes
// anything, so a rejected configuration leaves the Fake as it was. It keeps
// what was printed before and the job IDs it remembers.
func (f *Fake) Configure(_ context.Context, apiVersion string, config map[string]string) error {
	cfg, fs, err := faults.Prepare(fakeInfo(), apiVersion, config, parseConfig)
	if err != nil {
		return err
	}
	f.faults.Set(fs)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.apply(cfg)
	return nil
}

// SetConditions makes the Fake report exactly conds from now on, as if
// the device had changed state (a cover opened, paper loaded); tests and
// the conformance suite use it. The paper count is left as it is.
func (f *Fake) SetConditions(conds ...printer.Condition) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.conds = map[printer.Condition]bool{}
	for _, c := range conds {
		f.conds[c] = true
	}
	f.changedLocked()
}

// statusLocked returns the conditions in the order of printer.Conditions.
func (f *Fake) statusLocked() printer.Status {
	var st printer.Status
	for _, c := range printer.Conditions {
		if f.conds[c] {
			st.Conditions = append(st.Conditions, c)
		}
	}
	return st
}

// Health implements base.Base: idle when the printer is ready, otherwise
// error, with the conditions; the detail lists them, comma-separated.
func (f *Fake) Health(ctx context.Context) (base.Health, error) { return f.mon.Health(ctx) }

// Watch implements base.Watcher: every change of the conditions (by its
// configuration, SetConditions or the paper running out) as it happens.
func (f *Fake) Watch(ctx context.Context, send func(base.Event) error) error {
	return f.mon.Watch(ctx, send)
}

// changedLocked tells the watchers the Fake's health; f.mu is held.
func (f *Fake) changedLocked() {
	st := f.statusLocked()
	h := base.Health{State: base.StateIdle, Detail: joinConditions(st.Conditions)}
	for _, c := range st.Conditions {
		h.Conditions = append(h.Conditions, string(c))
	}
	if !st.Ready() {
		h.State = base.StateError
	}
	f.mon.Set(h)
}

func joinConditions(cs []printer.Condition) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

func (f *Fake) begin(ctx context.Context) error {
	if err := f.faults.Call(ctx); err != nil {
		return err
	}
	return ctx.Err()
}

// Status implements printer.Printer.
func (f *Fake) Status(ctx context.Context) (printer.Status, error) {
	if err := f.begin(ctx); err != nil {
		return printer.Status{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.statusLocked(), nil
}

// Print implements printer.Printer. A job without an ID fails with
// printer.ErrBadJob; a job whose ID is among the last RememberedJobs
// printed returns nil and prints nothing. Otherwise it checks the status
// and the document first and prints nothing when either is wrong. The
// receipt that uses up the configured paper prints; the printer is out of
// paper after it.
func (f *Fake) Print(ctx context.Context, job printer.Job) error {
	if err := f.begin(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if job.ID == "" {
		return printer.ErrBadJob
	}
	if f.seen[job.ID] {
		return nil
	}
	if err := f.statusLocked().Err(); err != nil {
		return err
	}
	if err := render.Validate(job.Document); err != nil {
		return err
	}
	var img bytes.Buffer
	if f.cfg.pngDir != "" {
		if err := render.PNG(&img, job.Document, render.Options{Font: f.cfg.font}); err != nil {
			return fmt.Errorf("drawing the receipt image: %w", err)
		}
	}
	if f.cfg.output != "" {
		if err := appendFile(f.cfg.output, render.Text(job.Document, Columns)); err != nil {
			return fmt.Errorf("writing the receipt to the output file: %w", err)
		}
	}
	if f.cfg.pngDir != "" {
		if err := writeFile(filepath.Join(f.cfg.pngDir, PNGName(job.ID)), img.Bytes()); err != nil {
			return fmt.Errorf("writing the receipt image: %w", err)
		}
	}
	f.rememberLocked(job.ID)
	f.keepLocked(printer.Job{ID: job.ID, Document: cloneDocument(job.Document)})
	f.receipts++
	if f.paper > 0 {
		f.paper--
		if f.paper == 0 {
			f.conds[printer.ConditionPaperOut] = true
			f.changedLocked()
		}
	}
	return nil
}

func (f *Fake) rememberLocked(id printer.JobID) {
	if len(f.seenOrder) < RememberedJobs {
		f.seenOrder = append(f.seenOrder, id)
	} else {
		delete(f.seen, f.seenOrder[f.seenNext])
		f.seenOrder[f.seenNext] = id
		f.seenNext = (f.seenNext + 1) % RememberedJobs
	}
	f.seen[id] = true
}

func (f *Fake) keepLocked(job printer.Job) {
	if len(f.kept) < KeptJobs {
		f.kept = append(f.kept, job)
		return
	}
	f.kept[f.keptNext] = job
	f.keptNext = (f.keptNext + 1) % KeptJobs
}

// OpenDrawer implements printer.Printer: it fails with printer.ErrOffline
// when the printer is offline and printer.ErrNoDrawer when no drawer is
// configured. Paper or cover conditions do not stop the drawer.
func (f *Fake) OpenDrawer(ctx context.Context) error {
	if err := f.begin(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conds[printer.ConditionOffline] {
		return printer.ErrOffline
	}
	if !f.cfg.drawer {
		return printer.ErrNoDrawer
	}
	f.drawerOpens++
	return nil
}

// Printed returns the last KeptJobs jobs printed (a retried job once),
// oldest first.
func (f *Fake) Printed() []printer.Job {
	f.mu.Lock()
	defer f.mu.Unlock()
	jobs := make([]printer.Job, 0, len(f.kept))
	for i := range f.kept {
		j := f.kept[(f.keptNext+i)%len(f.kept)]
		jobs = append(jobs, printer.Job{ID: j.ID, Document: cloneDocument(j.Document)})
	}
	return jobs
}

// Receipts returns how many jobs were printed since NewFake, a retried
// job counted once.
func (f *Fake) Receipts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.receipts
}

// DrawerOpens returns how many times the drawer was opened since NewFake.
func (f *Fake) DrawerOpens() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.drawerOpens
}

func cloneDocument(d printer.Document) printer.Document {
	return printer.Document{Lines: slices.Clone(d.Lines), Cut: d.Cut}
}

func appendFile(path, text string) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := fh.WriteString(text); err != nil {
		_ = fh.Close()
		return err
	}
	return fh.Close()
}

// PNGName is the name of the file the fake writes job id's image to in its
// png_dir: the ID with every character but ASCII letters, digits, '-' and
// '_' replaced by '_' (a '/' among them, so the file stays in the
// directory), and ".png".
func PNGName(id printer.JobID) string {
	name := []byte(id)
	for i, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			name[i] = '_'
		}
	}
	return string(name) + ".png"
}

// writeFile writes data to path through a temporary file renamed over it,
// so that a reader never sees half an image.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".receipt-*.png")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return nil
}

func parseConfig(m map[string]string) (config, error) {
	c := defaultConfig()
	keys := []string{"conditions", "paper", "drawer", "output", "png_dir", "latency", "crash_after"} // the last two read by faults.Parse
	err := base.EachConfigKey(m, "fake-printer", keys, func(k base.ConfigKey) error {
		if k.Value == "" {
			return nil // the default
		}
		var err error
		switch k.Name {
		case "conditions":
			for _, v := range strings.Split(k.Value, ",") {
				cond := printer.Condition(strings.TrimSpace(v))
				if cond == "" {
					continue
				}
				if !cond.Known() {
					return k.Bad("a comma-separated list of " + joinConditions(printer.Conditions))
				}
				c.conds = append(c.conds, cond)
			}
		case "paper":
			n, err := strconv.Atoi(k.Value)
			if err != nil || n < 0 {
				return k.Bad("a number of receipts")
			}
			c.paper = n
		case "drawer":
			c.drawer, err = k.Bool()
		case "output":
			if fi, err := os.Stat(filepath.Dir(k.Value)); err != nil || !fi.IsDir() {
				return k.Bad("a file in an existing directory")
			}
			if fi, err := os.Stat(k.Value); err == nil && fi.IsDir() {
				return k.Bad("a file: it is a directory")
			} else if err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("config key output: %w", err)
			}
			c.output = k.Value
		case "png_dir":
			if fi, err := os.Stat(k.Value); err != nil || !fi.IsDir() {
				return k.Bad("an existing directory")
			}
			font, err := render.LoadFont("")
			if err != nil {
				return fmt.Errorf("config key png_dir: %w", err)
			}
			c.pngDir, c.font = k.Value, font
		}
		return err
	})
	if err != nil {
		return config{}, err
	}
	return c, nil
}
