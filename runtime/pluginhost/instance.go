package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
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

// Status is one plugin as the host sees it.
type Status struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Plugin     string `json:"plugin"`
	Version    string `json:"version"`
	APIVersion string `json:"api_version"`
	PID        int    `json:"pid"`
	Health     string `json:"health"`
	Detail     string `json:"detail,omitempty"`
	Restarts   int    `json:"restarts"`
}

// Instance is one supervised plugin.
type Instance struct {
	spec Spec
	kind Kind
	opts Options

	mu       sync.Mutex
	client   *goplugin.Client
	impl     base.Base
	info     base.Info
	api      string
	pid      int
	health   string
	detail   string
	restarts int
	up       chan struct{} // closed while the plugin is up
	inflight int
	closing  bool
	drained  chan struct{} // closed when closing and inflight reaches 0

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

func newInstance(s Spec, o Options) *Instance {
	k := o.Kinds[s.Kind]
	if s.CallTimeout == 0 {
		s.CallTimeout = k.CallTimeout
	}
	if s.CallTimeout == 0 {
		s.CallTimeout = 30 * time.Second
	}
	return &Instance{
		spec: s, kind: k, opts: o, health: HealthStarting,
		up: make(chan struct{}), drained: make(chan struct{}),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
}

// Name is the plugin's configured name.
func (in *Instance) Name() string { return in.spec.Name }

// Status reports the plugin.
func (in *Instance) Status() Status {
	in.mu.Lock()
	defer in.mu.Unlock()
	return Status{
		Name: in.spec.Name, Kind: in.spec.Kind, Plugin: in.info.Name, Version: in.info.Version,
		APIVersion: in.api, PID: in.pid, Health: in.health, Detail: in.detail, Restarts: in.restarts,
	}
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
	var giveUp <-chan time.Time // armed once the plugin is found down
	for {
		in.mu.Lock()
		if in.closing {
			in.mu.Unlock()
			return nil, fmt.Errorf("plugin %q: %w", in.spec.Name, ErrShuttingDown)
		}
		up, c, impl := in.up, in.client, in.impl
		in.mu.Unlock()
		select {
		case <-up:
			if !c.Exited() {
				return impl, nil
			}
			// It died since it was marked up: have the supervisor restart
			// it now, and look again once it has marked it down.
			in.poke()
			up = nil
		default:
		}
		if giveUp == nil {
			t := time.NewTimer(in.opts.DownWait)
			defer t.Stop()
			giveUp = t.C
		}
		select {
		case <-up: // nil (blocks) when it died while marked up
		case <-time.After(10 * time.Millisecond):
		case <-giveUp:
			return nil, fmt.Errorf("plugin %q is down and did not come back within %v: %w", in.spec.Name, in.opts.DownWait, base.ErrUnavailable)
		case <-ctx.Done():
			return nil, fmt.Errorf("plugin %q is down (%v): %w", in.spec.Name, ctx.Err(), base.ErrUnavailable)
		}
	}
}

func (in *Instance) clientNow() *goplugin.Client {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.client
}

func (in *Instance) poke() {
	select {
	case in.kick <- struct{}{}:
	default:
	}
}

// start launches the process, negotiates, configures, and marks the
// instance up. On failure nothing is left running.
func (in *Instance) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, in.opts.StartTimeout)
	defer cancel()
	cmd := exec.Command(in.spec.Path, in.spec.Args...)
	dieWithParent(cmd)
	if dir := in.opts.SocketDir; dir != "" {
		// The plugin makes its socket (and any temporary file) here,
		// not in the system's temporary directory.
		cmd.Env = []string{"PLUGIN_UNIX_SOCKET_DIR=" + dir, "TMPDIR=" + dir}
	}
	cfg := &goplugin.ClientConfig{
		HandshakeConfig:  base.Handshake,
		Plugins:          goplugin.PluginSet{in.spec.Kind: in.kind.Plugin},
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     in.opts.StartTimeout,
		Logger:           in.opts.Logger.Named(in.spec.Name),
		GRPCDialOptions: []grpc.DialOption{
			grpc.WithChainUnaryInterceptor(in.unaryInterceptor),
			grpc.WithChainStreamInterceptor(in.streamInterceptor),
			// Fixed flow-control windows turn off gRPC's bandwidth probes
			// (a PING per data frame), which would double the cross-process
			// wake-ups of every small call.
			grpc.WithInitialWindowSize(1 << 20),
			grpc.WithInitialConnWindowSize(1 << 20),
		},
	}
	if !in.spec.Builtin {
		sum, err := hex.DecodeString(in.spec.SHA256)
		if err != nil || len(sum) != sha256.Size {
			return fmt.Errorf("plugin %q (%s): sha256 %q is not 64 hex digits", in.spec.Name, in.spec.Path, in.spec.SHA256)
		}
		cfg.SecureConfig = &goplugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	c := goplugin.NewClient(cfg)
	impl, info, api, err := in.handshake(ctx, c)
	if err != nil {
		c.Kill()
		return err
	}
	pid := 0
	if rc := c.ReattachConfig(); rc != nil {
		pid = rc.Pid
	}
	in.mu.Lock()
	in.client, in.impl, in.info, in.api, in.pid = c, impl, info, api, pid
	in.health, in.detail = base.StateIdle, ""
	close(in.up)
	in.mu.Unlock()
	in.opts.Logger.Info("plugin started", "plugin", in.spec.Name, "kind", in.spec.Kind, "pid", pid, "api", api)
	return nil
}

func (in *Instance) handshake(ctx context.Context, c *goplugin.Client) (base.Base, base.Info, string, error) {
	where := fmt.Sprintf("plugin %q (%s)", in.spec.Name, in.spec.Path)
	rpc, err := c.Client()
	if errors.Is(err, goplugin.ErrChecksumsDoNotMatch) {
		return nil, base.Info{}, "", fmt.Errorf("%s: checksum mismatch: the configuration pins sha256 %s but the file has sha256 %s; refusing to start it",
			where, in.spec.SHA256, fileSHA256(in.spec.Path))
	}
	if err != nil {
		return nil, base.Info{}, "", fmt.Errorf("%s: handshake failed (is it a posrt plugin speaking protocol version %d?): %w", where, base.ProtocolVersion, err)
	}
	raw, err := rpc.Dispense(in.spec.Kind)
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

func fileSHA256(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unreadable (" + err.Error() + ")"
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "unreadable (" + err.Error() + ")"
	}
	return hex.EncodeToString(h.Sum(nil))
}

// posrtServices prefixes the gRPC methods of posrt's plugin contracts.
const posrtServices = "/posrt."

// unaryInterceptor gives every call a deadline, counts it in flight for
// Shutdown, and wakes the supervisor when the transport failed.
// go-plugin's own services (controller, broker, stdio) pass untouched: the
// controller's Shutdown in particular must reach a plugin that is closing.
func (in *Instance) unaryInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if !strings.HasPrefix(method, posrtServices) {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	if !in.enter() {
		return status.Errorf(codes.Unavailable, "plugin %q: %v", in.spec.Name, ErrShuttingDown)
	}
	defer in.leave()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, in.spec.CallTimeout)
		defer cancel()
	}
	err := invoker(ctx, method, req, reply, cc, opts...)
	if status.Code(err) == codes.Unavailable {
		in.poke()
	}
	return err
}

// streamInterceptor counts a stream's opening; a stream is a subscription
// that lives as long as its caller's context, so it carries no deadline.
func (in *Instance) streamInterceptor(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	if !strings.HasPrefix(method, posrtServices) {
		return streamer(ctx, desc, cc, method, opts...)
	}
	if !in.enter() {
		return nil, status.Errorf(codes.Unavailable, "plugin %q: %v", in.spec.Name, ErrShuttingDown)
	}
	defer in.leave()
	return streamer(ctx, desc, cc, method, opts...)
}

func (in *Instance) enter() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closing {
		return false
	}
	in.inflight++
	return true
}

func (in *Instance) leave() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.inflight--
	if in.closing && in.inflight == 0 {
		close(in.drained)
	}
}

// supervise checks the plugin every HealthInterval (or at once when a
// caller saw it fail) and restarts it with back-off when it crashed or hung.
func (in *Instance) supervise() {
	defer close(in.done)
	tick := time.NewTicker(in.opts.HealthInterval)
	defer tick.Stop()
	backoff := in.opts.MinBackoff
	misses := 0
	var upSince time.Time
	for {
		select {
		case <-in.stop:
			return
		case <-tick.C:
		case <-in.kick:
		}
		c := in.clientNow()
		if c != nil && !c.Exited() {
			if in.checkHealth() {
				misses = 0
				if !upSince.IsZero() && time.Since(upSince) > 30*time.Second {
					backoff, upSince = in.opts.MinBackoff, time.Time{}
				}
				continue
			}
			if misses++; misses < in.opts.HungAfter {
				continue
			}
			in.opts.Logger.Warn("plugin hung: killing it", "plugin", in.spec.Name, "missed_health_checks", misses)
			// A hung plugin may not answer go-plugin's shutdown request
			// either; it has not exited, so its pid is still its own.
			killPID(in.Status().PID)
		} else {
			in.opts.Logger.Warn("plugin exited: restarting it", "plugin", in.spec.Name)
		}
		misses = 0
		in.markDown("restarting")
		if c != nil {
			c.Kill()
		}
		for {
			select {
			case <-in.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, in.opts.MaxBackoff)
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				select {
				case <-in.stop:
				case <-ctx.Done():
				}
				cancel()
			}()
			err := in.start(ctx)
			cancel()
			if err == nil {
				in.mu.Lock()
				in.restarts++
				in.mu.Unlock()
				upSince = time.Now()
				break
			}
			in.opts.Logger.Error("plugin restart failed", "plugin", in.spec.Name, "error", err, "next_try_in", backoff)
			in.markDown(err.Error())
		}
	}
}

func (in *Instance) checkHealth() bool {
	in.mu.Lock()
	impl := in.impl
	in.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), in.opts.HealthTimeout)
	defer cancel()
	h, err := impl.Health(ctx)
	in.mu.Lock()
	defer in.mu.Unlock()
	if err != nil {
		in.detail = "health check failed: " + err.Error()
		return false
	}
	in.health, in.detail = h.State, h.Detail
	return true
}

func (in *Instance) markDown(detail string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	select {
	case <-in.up:
		in.up = make(chan struct{})
	default:
	}
	in.health, in.detail, in.pid = HealthDown, detail, 0
}

// kill stops the plugin process: gracefully through go-plugin, and with
// SIGKILL if it has not gone after killGrace (a frozen plugin never answers
// the graceful request).
func (in *Instance) kill() {
	c := in.clientNow()
	if c == nil {
		return
	}
	pid := in.Status().PID
	done := make(chan struct{})
	go func() {
		c.Kill()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(killGrace):
		killPID(pid)
		<-done
	}
}

// killGrace is how long a plugin has to stop when asked.
const killGrace = 3 * time.Second

// killPID sends SIGKILL to a plugin process that has not exited.
func killPID(pid int) {
	if pid <= 0 {
		return
	}
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

func (in *Instance) shutdown(ctx context.Context) error {
	in.mu.Lock()
	if in.closing {
		in.mu.Unlock()
		<-in.done
		return nil
	}
	in.closing = true
	if in.inflight == 0 {
		close(in.drained)
	}
	in.mu.Unlock()
	close(in.stop)
	<-in.done
	var err error
	select {
	case <-in.drained:
	case <-ctx.Done():
		err = fmt.Errorf("plugin %q: calls still in flight at shutdown: %w", in.spec.Name, ctx.Err())
	}
	in.kill()
	in.mu.Lock()
	in.health, in.pid = HealthStopped, 0
	in.mu.Unlock()
	return err
}
