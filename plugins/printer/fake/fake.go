package fake

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/internal/faults"
	"github.com/posrt/posrt/plugins/printer"
)

// Fake is an in-memory receipt printer with a cash drawer, whose behaviour
// is set by configuration keys (see plugins/printer/README.md). NewFake
// returns it ready with the default configuration: status ok, unlimited
// paper, a drawer, no output file. It is safe for concurrent use.
type Fake struct {
	// faults injects latency and crashes; tests in this package replace
	// faults.Exit.
	faults faults.Faults

	mu          sync.Mutex
	cfg         config
	status      printer.Status
	paper       int // receipts left; negative: unlimited
	printed     []printer.Document
	drawerOpens int
}

var _ printer.Printer = (*Fake)(nil)

type config struct {
	status printer.Status
	paper  int // negative: unlimited
	drawer bool
	output string
}

// NewFake returns a fake printer with the default configuration. It does
// no I/O.
func NewFake() *Fake {
	f := &Fake{}
	f.apply(defaultConfig())
	return f
}

func defaultConfig() config {
	return config{status: printer.StatusOK, paper: -1, drawer: true}
}

// apply installs cfg; f.mu must be held or f unshared.
func (f *Fake) apply(cfg config) {
	f.cfg, f.status, f.paper = cfg, cfg.status, cfg.paper
	if f.paper == 0 && f.status == printer.StatusOK {
		f.status = printer.StatusPaperOut
	}
}

// fakeInfo is what the Fake's Info reports.
func fakeInfo() base.Info {
	return base.Info{Kind: base.KindPrinter, Name: "fake-printer", Version: "0.1.0", APIVersions: printer.APIVersions}
}

// Info implements base.Base.
func (f *Fake) Info(context.Context) (base.Info, error) { return fakeInfo(), nil }

// Configure implements base.Base. It checks every key before it changes
// anything, so a rejected configuration leaves the Fake as it was. It keeps
// what was printed before.
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

// Health implements base.Base: idle when the status is ok, otherwise
// error with the status as detail.
func (f *Fake) Health(context.Context) (base.Health, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.status != printer.StatusOK {
		return base.Health{State: base.StateError, Detail: string(f.status)}, nil
	}
	return base.Health{State: base.StateIdle}, nil
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
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, nil
}

// Print implements printer.Printer. It checks the status and the document
// first and prints nothing when either is wrong. The receipt that uses up
// the configured paper prints; the status is paper_out after it.
func (f *Fake) Print(ctx context.Context, doc printer.Document) error {
	if err := f.begin(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := printer.StatusError(f.status); err != nil {
		return err
	}
	text, err := render(doc)
	if err != nil {
		return err
	}
	if f.cfg.output != "" {
		if err := appendFile(f.cfg.output, text); err != nil {
			return fmt.Errorf("writing the receipt to the output file: %w", err)
		}
	}
	f.printed = append(f.printed, cloneDocument(doc))
	if f.paper > 0 {
		f.paper--
		if f.paper == 0 {
			f.status = printer.StatusPaperOut
		}
	}
	return nil
}

// OpenDrawer implements printer.Printer: it fails when the status is not
// ok or no drawer is configured.
func (f *Fake) OpenDrawer(ctx context.Context) error {
	if err := f.begin(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := printer.StatusError(f.status); err != nil {
		return err
	}
	if !f.cfg.drawer {
		return printer.ErrNoDrawer
	}
	f.drawerOpens++
	return nil
}

// Printed returns the documents printed since NewFake, oldest first.
func (f *Fake) Printed() []printer.Document {
	f.mu.Lock()
	defer f.mu.Unlock()
	docs := make([]printer.Document, len(f.printed))
	for i, d := range f.printed {
		docs[i] = cloneDocument(d)
	}
	return docs
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

func parseConfig(m map[string]string) (config, error) {
	c := defaultConfig()
	keys := []string{"status", "paper", "drawer", "output", "latency", "crash_after"} // the last two read by faults.Parse
	err := base.EachConfigKey(m, "fake-printer", keys, func(k base.ConfigKey) error {
		if k.Value == "" {
			return nil // the default
		}
		var err error
		switch k.Name {
		case "status":
			switch s := printer.Status(k.Value); s {
			case printer.StatusOK, printer.StatusPaperOut, printer.StatusCoverOpen, printer.StatusOffline:
				c.status = s
			default:
				return k.Bad("ok, paper_out, cover_open or offline")
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
		}
		return err
	})
	if err != nil {
		return config{}, err
	}
	return c, nil
}
