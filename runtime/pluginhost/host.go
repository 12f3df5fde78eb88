package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// ErrShuttingDown is returned for calls made after Shutdown began.
var ErrShuttingDown = errors.New("plugin host is shutting down")

// Options configure a Host.
type Options struct {
	Logger hclog.Logger
	// Kinds maps a kind name to how the host talks to it.
	Kinds map[string]Kind
	// HealthInterval is how often the supervisor checks each plugin (1s).
	HealthInterval time.Duration
	// HealthTimeout bounds one health check; a plugin that misses
	// HungAfter checks in a row is killed and restarted (2s, 2).
	HealthTimeout time.Duration
	HungAfter     int
	// MinBackoff and MaxBackoff bound the delay before a restart (50ms, 10s).
	MinBackoff, MaxBackoff time.Duration
	// StartTimeout bounds one start: handshake, Info and Configure (10s).
	StartTimeout time.Duration
	// DownWait bounds how long a call waits for a plugin that is down to
	// come back before it fails (15s).
	DownWait time.Duration
	// SocketDir is where the plugins' unix sockets live (empty: the
	// system's temporary directory); Start creates it, Shutdown removes it.
	SocketDir string
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.HealthInterval == 0 {
		o.HealthInterval = time.Second
	}
	if o.HealthTimeout == 0 {
		o.HealthTimeout = 2 * time.Second
	}
	if o.HungAfter == 0 {
		o.HungAfter = 2
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = 50 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 10 * time.Second
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 10 * time.Second
	}
	if o.DownWait == 0 {
		o.DownWait = 15 * time.Second
	}
}

// Host runs a set of plugins.
type Host struct {
	opts      Options
	instances map[string]*Instance
}

// New returns a Host; it starts nothing.
func New(opts Options) *Host {
	opts.defaults()
	return &Host{opts: opts, instances: map[string]*Instance{}}
}

// Start launches every plugin in parallel and starts supervising them. If
// any fails to start, the others are stopped and the errors are returned
// together, each naming its plugin.
func (h *Host) Start(ctx context.Context, specs []Spec) error {
	seen := map[string]bool{}
	for _, s := range specs {
		if err := s.validate(h.opts.Kinds); err != nil {
			return err
		}
		if err := s.checkPath(); err != nil {
			return err
		}
		if seen[s.Name] {
			return fmt.Errorf("plugin name %q is used twice", s.Name)
		}
		seen[s.Name] = true
	}
	if err := h.cleanSockets(); err != nil {
		return err
	}
	insts := make([]*Instance, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, s := range specs {
		insts[i] = newInstance(s, h.opts)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = insts[i].start(ctx)
		}(i)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, in := range insts {
			in.kill()
		}
		return err
	}
	for _, in := range insts {
		h.instances[in.spec.Name] = in
		go in.supervise()
	}
	return nil
}

// Instance returns the running plugin with name.
func (h *Host) Instance(name string) (*Instance, bool) {
	in, ok := h.instances[name]
	return in, ok
}

// Status reports every plugin, sorted by name.
func (h *Host) Status() []Status {
	out := make([]Status, 0, len(h.instances))
	for _, in := range h.instances {
		out = append(out, in.Status())
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// Shutdown refuses new calls, waits for calls in flight to finish (until
// ctx ends) and stops every plugin process.
func (h *Host) Shutdown(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(h.instances))
	for _, in := range h.instances {
		wg.Add(1)
		go func(in *Instance) {
			defer wg.Done()
			errs <- in.shutdown(ctx)
		}(in)
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if dir := h.opts.SocketDir; dir != "" {
		if err := os.RemoveAll(dir); err != nil {
			all = append(all, fmt.Errorf("removing the plugin socket directory: %w", err))
		}
	}
	return errors.Join(all...)
}

// cleanSockets creates SocketDir.
func (h *Host) cleanSockets() error {
	dir := h.opts.SocketDir
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the plugin socket directory: %w", err)
	}
	return nil
}
