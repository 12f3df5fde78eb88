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

	"github.com/posrt/posrt/plugins/base"
)

// process is one supervised plugin process and the instances it serves:
// one, or several sharing it (Spec.Process). It is started, checked and
// restarted as a whole: when it dies or hangs every member goes down and
// comes back with it.
type process struct {
	name    string // Spec.Process, or the one member's name
	shared  bool   // more than one member: calls name their instance
	members []*Instance
	opts    Options

	mu       sync.Mutex // guards the fields below and every member's state
	client   *goplugin.Client
	pid      int
	restarts int
	up       chan struct{} // closed while the process is up
	closing  bool

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

func newProcess(name string, members []*Instance, o Options) *process {
	p := &process{
		name: name, shared: len(members) > 1, members: members, opts: o,
		up: make(chan struct{}), kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	for _, in := range members {
		in.proc = p
	}
	return p
}

// where names the process in errors: its plugin, or its plugins.
func (p *process) where() string {
	path := p.members[0].spec.Path
	if !p.shared {
		return fmt.Sprintf("plugin %q (%s)", p.members[0].spec.Name, path)
	}
	names := make([]string, len(p.members))
	for i, in := range p.members {
		names[i] = fmt.Sprintf("%q", in.spec.Name)
	}
	return fmt.Sprintf("plugin process %q of plugins %s (%s)", p.name, strings.Join(names, ", "), path)
}

func (p *process) clientNow() *goplugin.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.client
}

func (p *process) pidNow() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

func (p *process) poke() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// start launches the process, then dispenses, negotiates and configures
// each member, and marks them up. On failure nothing is left running.
func (p *process) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.opts.StartTimeout)
	defer cancel()
	s := p.members[0].spec
	cmd := exec.Command(s.Path, s.Args...)
	dieWithParent(cmd)
	if dir := p.opts.SocketDir; dir != "" {
		// The plugin makes its socket (and any temporary file) here,
		// not in the system's temporary directory.
		cmd.Env = []string{"PLUGIN_UNIX_SOCKET_DIR=" + dir, "TMPDIR=" + dir}
	}
	if n := p.opts.PluginMemoryLimit; n > 0 {
		cmd.Env = append(cmd.Env, fmt.Sprintf("GOMEMLIMIT=%d", n))
	}
	plugins := goplugin.PluginSet{}
	for _, in := range p.members {
		plugins[in.spec.Name] = memberPlugin{in: in}
	}
	cfg := &goplugin.ClientConfig{
		HandshakeConfig:  base.Handshake,
		Plugins:          plugins,
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     p.opts.StartTimeout,
		Logger:           p.opts.Logger.Named(p.name),
		GRPCDialOptions: []grpc.DialOption{
			// Fixed flow-control windows turn off gRPC's bandwidth probes
			// (a PING per data frame), which would double the cross-process
			// wake-ups of every small call.
			grpc.WithInitialWindowSize(1 << 20),
			grpc.WithInitialConnWindowSize(1 << 20),
		},
	}
	if !s.Builtin {
		sum, err := hex.DecodeString(s.SHA256)
		if err != nil || len(sum) != sha256.Size {
			return fmt.Errorf("%s: sha256 %q is not 64 hex digits", p.where(), s.SHA256)
		}
		cfg.SecureConfig = &goplugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	c := goplugin.NewClient(cfg)
	rpc, err := c.Client()
	if errors.Is(err, goplugin.ErrChecksumsDoNotMatch) {
		c.Kill()
		return fmt.Errorf("%s: checksum mismatch: the configuration pins sha256 %s but the file has sha256 %s; refusing to start it",
			p.where(), s.SHA256, fileSHA256(s.Path))
	}
	if err != nil {
		c.Kill()
		return fmt.Errorf("%s: handshake failed (is it a posrt plugin speaking protocol version %d?): %w", p.where(), base.ProtocolVersion, err)
	}
	type started struct {
		impl base.Base
		info base.Info
		api  string
	}
	got := make([]started, len(p.members))
	for i, in := range p.members {
		impl, info, api, err := in.handshake(ctx, rpc)
		if err != nil {
			c.Kill()
			return err
		}
		got[i] = started{impl, info, api}
	}
	pid := 0
	if rc := c.ReattachConfig(); rc != nil {
		pid = rc.Pid
	}
	p.mu.Lock()
	p.client, p.pid = c, pid
	for i, in := range p.members {
		in.impl, in.info, in.api = got[i].impl, got[i].info, got[i].api
		in.setStateLocked(base.Health{State: base.StateIdle})
		in.startWatchLocked()
	}
	close(p.up)
	p.mu.Unlock()
	for i, in := range p.members {
		p.opts.Logger.Info("plugin started", "plugin", in.spec.Name, "kind", in.spec.Kind, "process", in.spec.Process, "pid", pid, "api", got[i].api)
	}
	return nil
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

// supervise checks every member every HealthInterval (or at once when a
// caller saw the process fail) and restarts the process with back-off when
// it crashed, or when a member hung.
func (p *process) supervise() {
	defer close(p.done)
	tick := time.NewTicker(p.opts.HealthInterval)
	defer tick.Stop()
	backoff := p.opts.MinBackoff
	misses := 0
	var upSince time.Time
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		case <-p.kick:
		}
		c := p.clientNow()
		if c != nil && !c.Exited() {
			if p.checkHealth() {
				misses = 0
				if !upSince.IsZero() && time.Since(upSince) > 30*time.Second {
					backoff, upSince = p.opts.MinBackoff, time.Time{}
				}
				continue
			}
			if misses++; misses < p.opts.HungAfter {
				continue
			}
			p.opts.Logger.Warn("plugin hung: killing its process", "process", p.name, "missed_health_checks", misses)
			// A hung plugin may not answer go-plugin's shutdown request
			// either; it has not exited, so its pid is still its own.
			killPID(p.pidNow())
		} else {
			p.opts.Logger.Warn("plugin exited: restarting it", "process", p.name)
		}
		misses = 0
		p.markDown("restarting")
		if c != nil {
			c.Kill()
		}
		for {
			select {
			case <-p.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, p.opts.MaxBackoff)
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				select {
				case <-p.stop:
				case <-ctx.Done():
				}
				cancel()
			}()
			err := p.start(ctx)
			cancel()
			if err == nil {
				p.mu.Lock()
				p.restarts++
				p.mu.Unlock()
				upSince = time.Now()
				break
			}
			p.opts.Logger.Error("plugin restart failed", "process", p.name, "error", err, "next_try_in", backoff)
			p.markDown(err.Error())
		}
	}
}

// checkHealth asks every member at once; it reports whether all answered.
func (p *process) checkHealth() bool {
	ok := make([]bool, len(p.members))
	var wg sync.WaitGroup
	for i, in := range p.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok[i] = in.checkHealth(p.opts.HealthTimeout)
		}()
	}
	wg.Wait()
	for _, o := range ok {
		if !o {
			return false
		}
	}
	return true
}

func (p *process) markDown(detail string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.up:
		p.up = make(chan struct{})
	default:
	}
	p.pid = 0
	for _, in := range p.members {
		in.stopWatchLocked()
		in.setStateLocked(base.Health{State: HealthDown, Detail: detail})
	}
}

// kill stops the plugin process: gracefully through go-plugin, and with
// SIGKILL if it has not gone after killGrace (a frozen plugin never answers
// the graceful request).
func (p *process) kill() {
	c := p.clientNow()
	if c == nil {
		return
	}
	pid := p.pidNow()
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
	if pr, err := os.FindProcess(pid); err == nil {
		_ = pr.Kill()
	}
}

// shutdown refuses new calls to every member, stops supervising, waits
// for every member's calls in flight (until ctx ends) and then stops the
// process.
func (p *process) shutdown(ctx context.Context) error {
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		<-p.done
		return nil
	}
	p.closing = true
	for _, in := range p.members {
		in.stopWatchLocked()
		if in.inflight == 0 {
			close(in.drained)
		}
	}
	p.mu.Unlock()
	close(p.stop)
	<-p.done
	var errs []error
	for _, in := range p.members {
		select {
		case <-in.drained:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("plugin %q: calls still in flight at shutdown: %w", in.spec.Name, ctx.Err()))
		}
	}
	p.kill()
	p.mu.Lock()
	p.pid = 0
	for _, in := range p.members {
		in.setStateLocked(base.Health{State: HealthStopped})
	}
	p.mu.Unlock()
	return errors.Join(errs...)
}
