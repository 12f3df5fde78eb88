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
	// PluginMemoryLimit, when above zero, is the soft memory limit in
	// bytes given to every plugin process as GOMEMLIMIT: a plugin written
	// in Go keeps its heap under it by collecting sooner (others ignore
	// it).
	PluginMemoryLimit int64
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
	procs     []*process
}

// New returns a Host; it starts nothing.
func New(opts Options) *Host {
	opts.defaults()
	return &Host{opts: opts, instances: map[string]*Instance{}}
}

// Start launches every plugin process in parallel (one per Spec.Process
// group, and one for each plugin without a Process) and starts supervising
// them. Nothing starts unless every spec and every group is valid. If any
// process fails to start, the others are stopped and the errors are
// returned together, each naming its plugin.
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
	groups, err := group(specs, h.opts.Kinds)
	if err != nil {
		return err
	}
	if err := h.cleanSockets(); err != nil {
		return err
	}
	procs := make([]*process, len(groups))
	errs := make([]error, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		members := make([]*Instance, len(g.specs))
		for j, s := range g.specs {
			members[j] = newInstance(s, h.opts)
		}
		procs[i] = newProcess(g.name, members, h.opts)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = procs[i].start(ctx)
		}(i)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, p := range procs {
			p.kill()
		}
		return err
	}
	for _, p := range procs {
		h.procs = append(h.procs, p)
		for _, in := range p.members {
			h.instances[in.spec.Name] = in
		}
		go p.supervise()
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

// Shutdown refuses new calls, waits for calls in flight to every member of
// every process to finish (until ctx ends) and stops every plugin process.
func (h *Host) Shutdown(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(h.procs))
	for _, p := range h.procs {
		wg.Add(1)
		go func(p *process) {
			defer wg.Done()
			errs <- p.shutdown(ctx)
		}(p)
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
