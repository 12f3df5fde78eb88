package pluginhost

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/posrt/posrt/plugins/base"
)

// Health values the host reports besides the plugin's own device states.
const (
	HealthStarting = "starting"
	HealthDown     = "down"
	HealthStopped  = "stopped"
)

// Status is one plugin as the host sees it. Plugins that share a process
// report its PID and its Restarts alike.
type Status struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Plugin     string `json:"plugin"`
	Version    string `json:"version"`
	APIVersion string `json:"api_version"`
	Process    string `json:"process,omitempty"`
	PID        int    `json:"pid"`
	Health     string `json:"health"`
	Detail     string `json:"detail,omitempty"`
	// Conditions are the device's, in its kind's words (a printer's
	// paper_near_end).
	Conditions []string `json:"conditions,omitempty"`
	// Since is when the plugin entered its state.
	Since time.Time `json:"since"`
	// LastError is the last error event the device reported (its code
	// and message), kept across state changes and restarts.
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	// Events says how the host learns the device's state: "watched" (the
	// plugin's Watch stream), or "polled" (a plugin without Watch, whose
	// Health the supervisor asks each HealthInterval); empty until the
	// plugin's first event, or while it is down.
	Events   string `json:"events,omitempty"`
	Restarts int    `json:"restarts"`
}

// How the host learns a plugin's state (Status.Events).
const (
	EventsWatched = "watched"
	EventsPolled  = "polled"
)

// Instance is one configured plugin, served by a supervised process of its
// own or by one it shares with other instances (Spec.Process).
type Instance struct {
	spec Spec
	kind Kind
	proc *process

	// Guarded by proc.mu.
	impl        base.Base
	info        base.Info
	api         string
	health      string
	detail      string
	conditions  []string
	since       time.Time
	lastError   string
	lastErrorAt time.Time
	watched     bool               // the Watch stream is open and has sent
	polled      bool               // the plugin has no Watch: its Health is polled
	stopWatch   context.CancelFunc // ends the current incarnation's watch
	inflight    int
	drained     chan struct{} // closed when the process is closing and inflight reaches 0
}

func newInstance(s Spec, o Options) *Instance {
	k := o.Kinds[s.Kind]
	if s.CallTimeout == 0 {
		s.CallTimeout = k.CallTimeout
	}
	if s.CallTimeout == 0 {
		s.CallTimeout = 30 * time.Second
	}
	return &Instance{spec: s, kind: k, health: HealthStarting, since: time.Now(), drained: make(chan struct{})}
}

// Name is the plugin's configured name.
func (in *Instance) Name() string { return in.spec.Name }

// Status reports the plugin.
func (in *Instance) Status() Status {
	p := in.proc
	p.mu.Lock()
	defer p.mu.Unlock()
	st := Status{
		Name: in.spec.Name, Kind: in.spec.Kind, Plugin: in.info.Name, Version: in.info.Version,
		APIVersion: in.api, Process: in.spec.Process, PID: p.pid, Health: in.health, Detail: in.detail,
		Conditions: slices.Clone(in.conditions), Since: in.since, LastError: in.lastError, Restarts: p.restarts,
	}
	if !in.lastErrorAt.IsZero() {
		at := in.lastErrorAt
		st.LastErrorAt = &at
	}
	switch {
	case in.health == HealthDown || in.health == HealthStopped:
	case in.watched:
		st.Events = EventsWatched
	case in.polled:
		st.Events = EventsPolled
	}
	return st
}

// setStateLocked records the plugin's state; since moves only when the
// state itself changes.
func (in *Instance) setStateLocked(h base.Health) {
	if h.State != in.health {
		in.since = time.Now()
	}
	in.health, in.detail, in.conditions = h.State, h.Detail, h.Conditions
}

// watch follows the plugin's device events until ctx ends (the process
// went down or is closing). A stream that breaks while the process lives
// is opened again; a plugin without Watch is left to the supervisor's
// Health checks.
func (in *Instance) watch(ctx context.Context, w base.Watcher) {
	p := in.proc
	log := p.opts.Logger.With("plugin", in.spec.Name)
	for {
		err := w.Watch(ctx, func(e base.Event) error {
			in.onEvent(e, log)
			return nil
		})
		p.mu.Lock()
		in.watched = false
		p.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		if status.Code(err) == codes.Unimplemented {
			log.Info("the plugin has no Watch: its state is polled", "every", p.opts.HealthInterval)
			p.mu.Lock()
			in.polled = true
			p.mu.Unlock()
			return
		}
		log.Warn("device event stream ended: opening it again", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(watchRetry):
		}
	}
}

// watchRetry is how long the host waits before opening a broken event
// stream again.
const watchRetry = 500 * time.Millisecond

func (in *Instance) onEvent(e base.Event, log hclog.Logger) {
	p := in.proc
	p.mu.Lock()
	defer p.mu.Unlock()
	if in.stopWatch == nil { // the incarnation watched is gone
		return
	}
	in.watched = true
	was := in.health
	in.setStateLocked(e.Health)
	if e.Type == base.EventError {
		in.lastError, in.lastErrorAt = e.ErrorCode, e.At
		if e.ErrorMessage != "" {
			in.lastError += ": " + e.ErrorMessage
		}
		log.Warn("device error", "error", in.lastError, "state", e.Health.State)
	}
	if was != e.Health.State && was != HealthStarting {
		log.Info("device state changed", "from", was, "to", e.Health.State, "detail", e.Health.Detail)
	}
}

// startWatchLocked starts watching the incarnation just started; p.mu is
// held.
func (in *Instance) startWatchLocked() {
	in.polled = false
	w, ok := in.impl.(base.Watcher)
	if !ok {
		in.polled = true
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	in.stopWatch = cancel
	go in.watch(ctx, w)
}

// stopWatchLocked ends the watch of the incarnation going away; p.mu is
// held.
func (in *Instance) stopWatchLocked() {
	if in.stopWatch != nil {
		in.stopWatch()
		in.stopWatch = nil
	}
	in.watched = false
}

// Dispense returns the plugin's current client as the kind's interface T,
// waiting while the supervisor restarts a plugin that is down, until ctx
// ends or Options.DownWait has passed.
func Dispense[T any](ctx context.Context, in *Instance) (T, error) {
	var zero T
	b, err := in.current(ctx)
	if err != nil {
		return zero, err
	}
	t, ok := b.(T)
	if !ok {
		return zero, fmt.Errorf("plugin %q is a %s plugin, not the kind asked for", in.spec.Name, in.spec.Kind)
	}
	return t, nil
}

func (in *Instance) current(ctx context.Context) (base.Base, error) {
	p := in.proc
	var giveUp <-chan time.Time // armed once the plugin is found down
	for {
		p.mu.Lock()
		if p.closing {
			p.mu.Unlock()
			return nil, fmt.Errorf("plugin %q: %w", in.spec.Name, ErrShuttingDown)
		}
		up, c, impl := p.up, p.client, in.impl
		p.mu.Unlock()
		select {
		case <-up:
			if !c.Exited() {
				return impl, nil
			}
			// It died since it was marked up: have the supervisor restart
			// it now, and look again once it has marked it down.
			p.poke()
			up = nil
		default:
		}
		if giveUp == nil {
			t := time.NewTimer(p.opts.DownWait)
			defer t.Stop()
			giveUp = t.C
		}
		select {
		case <-up: // nil (blocks) when it died while marked up
		case <-time.After(10 * time.Millisecond):
		case <-giveUp:
			return nil, fmt.Errorf("plugin %q is down and did not come back within %v: %w", in.spec.Name, p.opts.DownWait, base.ErrUnavailable)
		case <-ctx.Done():
			return nil, fmt.Errorf("plugin %q is down (%v): %w", in.spec.Name, ctx.Err(), base.ErrUnavailable)
		}
	}
}

// enter counts a call in flight; it refuses once the process is closing.
func (in *Instance) enter() bool {
	p := in.proc
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return false
	}
	in.inflight++
	return true
}

func (in *Instance) leave() {
	p := in.proc
	p.mu.Lock()
	defer p.mu.Unlock()
	in.inflight--
	if p.closing && in.inflight == 0 {
		close(in.drained)
	}
}

// handshake dispenses the instance from the started process, checks its
// kind, negotiates its API version and configures it.
func (in *Instance) handshake(ctx context.Context, rpc goplugin.ClientProtocol) (base.Base, base.Info, string, error) {
	where := fmt.Sprintf("plugin %q (%s)", in.spec.Name, in.spec.Path)
	raw, err := rpc.Dispense(in.spec.Name)
	if err != nil {
		return nil, base.Info{}, "", fmt.Errorf("%s: it serves no %s plugin: %w", where, in.spec.Kind, err)
	}
	impl, ok := raw.(base.Base)
	if !ok {
		return nil, base.Info{}, "", fmt.Errorf("%s: the %s glue returned %T, which lacks the base service", where, in.spec.Kind, raw)
	}
	info, err := impl.Info(ctx)
	if err != nil {
		return nil, base.Info{}, "", fmt.Errorf("%s: asking for its info: %w", where, err)
	}
	if info.Kind != in.spec.Kind {
		return nil, base.Info{}, "", fmt.Errorf("%s: it says it is a %q plugin but the configuration names it as %q", where, info.Kind, in.spec.Kind)
	}
	api, err := base.Negotiate(in.kind.APIVersions, info.APIVersions)
	if err != nil {
		return nil, base.Info{}, "", fmt.Errorf("%s: %w", where, err)
	}
	if err := impl.Configure(ctx, api, in.spec.Config); err != nil {
		return nil, base.Info{}, "", fmt.Errorf("%s: configuring it: %w", where, err)
	}
	return impl, info, api, nil
}

// checkHealth asks the plugin for its health and records the answer.
func (in *Instance) checkHealth(timeout time.Duration) bool {
	p := in.proc
	p.mu.Lock()
	impl := in.impl
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	h, err := impl.Health(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		in.detail = "health check failed: " + err.Error()
		return false
	}
	if !in.watched { // a watched plugin's state comes from its events
		in.setStateLocked(h)
	}
	return true
}
