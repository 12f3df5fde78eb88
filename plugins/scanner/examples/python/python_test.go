package python_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/base/basetest"
	basepb "github.com/posrt/posrt/plugins/base/proto"
	"github.com/posrt/posrt/plugins/scanner"
	"github.com/posrt/posrt/plugins/scanner/scannertest"
	"github.com/posrt/posrt/runtime/pluginhost"
)

// modules are the Python modules netscanner.py imports beyond the
// standard library, each from a Debian package.
const modules = "grpc, google.protobuf, cryptography"

// python returns a Python 3 that has modules: $POSRT_PYTHON, the
// interpreter netscanner.py's first line names, or python3 on PATH. It
// skips the test when none has them.
func python(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("POSRT_PYTHON"), "/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	var tried []string
	for _, py := range candidates {
		if py == "" {
			continue
		}
		out, err := exec.Command(py, "-c", "import "+modules).CombinedOutput()
		if err == nil {
			return py
		}
		tried = append(tried, py+": "+strings.TrimSpace(lastLine(string(out), err)))
	}
	t.Skipf("no python3 with the modules %s (apt-get install python3-grpcio python3-protobuf python3-cryptography): %s",
		modules, strings.Join(tried, "; "))
	return ""
}

func lastLine(out string, err error) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if l := lines[len(lines)-1]; l != "" {
		return l
	}
	return err.Error()
}

// simulator is a network scanner: it listens on 127.0.0.1, and Show sends
// a code, newline-terminated, to every connection.
type simulator struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newSimulator(t testing.TB) *simulator {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening for the plugin: %v", err)
	}
	s := &simulator{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			// Drain what the plugin sends, so that a closed connection is
			// noticed and forgotten.
			go func() {
				_, _ = bufio.NewReader(c).ReadString(0)
				s.forget(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.conns {
			c.Close()
		}
	})
	return s
}

func (s *simulator) addr() string { return s.ln.Addr().String() }

func (s *simulator) forget(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, have := range s.conns {
		if have == c {
			s.conns = append(s.conns[:i], s.conns[i+1:]...)
			break
		}
	}
	c.Close()
}

// Show has the scanner read code.
func (s *simulator) Show(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		_, _ = c.Write([]byte(code + "\n"))
	}
}

// script is netscanner.py, run by its own first line.
func script(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs("netscanner.py")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// executable returns what the host is to run for script under py: script
// itself when its first line names py, or else a shell script running it
// with py.
func executable(t testing.TB, py, script string) string {
	t.Helper()
	if py == "/usr/bin/python3" {
		return script
	}
	w := filepath.Join(t.TempDir(), "netscanner")
	if err := os.WriteFile(w, []byte("#!/bin/sh\nexec '"+py+"' '"+script+"' \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return w
}

func fileSHA256(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// start runs the plugin at path through runtime/pluginhost, as posrt runs
// a deployer's plugin (its sha256 pinned, AutoMTLS, a socket directory of
// its own), configured with config, and returns its client and the host's
// instance of it. The host is shut down when t ends.
func start(t *testing.T, path string, config map[string]string) (scanner.Scanner, *pluginhost.Instance) {
	t.Helper()
	h := pluginhost.New(pluginhost.Options{
		Logger: hclog.New(&hclog.LoggerOptions{Name: "host", Output: os.Stderr, Level: hclog.Warn}),
		Kinds: map[string]pluginhost.Kind{
			base.KindScanner: {Plugin: scanner.NewPlugin(nil), APIVersions: scanner.APIVersions, CallTimeout: 10 * time.Second},
		},
		SocketDir: filepath.Join(t.TempDir(), "sockets"),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	spec := pluginhost.Spec{Name: "scanner", Kind: base.KindScanner, Path: path, SHA256: fileSHA256(t, path), Config: config}
	if err := h.Start(ctx, []pluginhost.Spec{spec}); err != nil {
		t.Fatalf("starting netscanner.py: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("stopping netscanner.py: %v", err)
		}
	})
	in, _ := h.Instance(spec.Name)
	sc, err := pluginhost.Dispense[scanner.Scanner](ctx, in)
	if err != nil {
		t.Fatalf("dispensing netscanner.py: %v", err)
	}
	return sc, in
}

// harness runs the plugin at the path executable gives (for py) under the
// conformance suite, against a simulator.
func harness(t *testing.T, executable func(t *testing.T) string) scannertest.Harness {
	sim := newSimulator(t)
	config := map[string]string{"address": sim.addr()}
	return scannertest.Harness{
		Dial: func(t *testing.T) scanner.Scanner {
			sc, _ := start(t, executable(t), config)
			return sc
		},
		Config:  config,
		Trigger: func(_ scanner.Scanner, code string) { sim.Show(code) },
	}
}

// TestConformance runs the scanner conformance suite on netscanner.py,
// started as a real process by go-plugin with AutoMTLS through
// runtime/pluginhost.
func TestConformance(t *testing.T) {
	py := python(t)
	scannertest.RunConformance(t, harness(t, func(t *testing.T) string { return executable(t, py, script(t)) }))
}

// patched returns an executable copy of netscanner.py (for py) with old
// replaced by new, beside a link to its message modules.
func patched(t *testing.T, py, old, new string) string {
	t.Helper()
	src, err := os.ReadFile(script(t))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(src), old) != 1 {
		t.Fatalf("netscanner.py does not hold %q exactly once: the broken plugin needs a new patch", old)
	}
	dir := t.TempDir()
	pb, err := filepath.Abs("posrtpb")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(pb, filepath.Join(dir, "posrtpb")); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "netscanner.py")
	if err := os.WriteFile(p, []byte(strings.Replace(string(src), old, new, 1)), 0o755); err != nil {
		t.Fatal(err)
	}
	return executable(t, py, p)
}

// brokenPlugins are netscanner.py broken on purpose, each with the step
// the suite must fail it at.
func brokenPlugins(t *testing.T, py string) map[string]basetest.Broken[scannertest.Harness] {
	broken := func(step, old, new string) basetest.Broken[scannertest.Harness] {
		return basetest.Broken[scannertest.Harness]{
			Harness: harness(t, func(t *testing.T) string { return patched(t, py, old, new) }),
			Step:    step,
		}
	}
	return map[string]basetest.Broken[scannertest.Harness]{
		"gives one code to every reader waiting": broken("OneCodeOneReader",
			"w = self.waiters.popleft()\n                w.scan = scan\n                w.done.set()\n",
			"for w in self.waiters:\n                    w.scan = scan\n                    w.done.set()\n                self.waiters.clear()\n"),
		"keeps the codes read while disabled": broken("CodeReadWhileDisabledIsDropped",
			"if not self.enabled:\n                log.info", "if False:\n                log.info"),
		"keeps the codes nobody took at Disable": broken("DisableDropsPending",
			"self.enabled = False\n            self.pending.clear()\n        return scanner_pb2.DisableResponse()",
			"self.enabled = False\n        return scanner_pb2.DisableResponse()"),
		"keeps a reader that gave up waiting": broken("NoCodeLostToAReaderThatGaveUp",
			"if w in self.waiters:\n                self.waiters.remove(w)", "pass"),
		"opens its Watch with nothing": broken("WatchOpensWithTheState",
			"yield first\n", "pass\n"),
		"speaks any API version": broken("ConfigureRejectsUnknownAPIVersion",
			"if api_version not in API_VERSIONS:", "if False:"),
	}
}

// TestConformanceCatchesBrokenPythonPlugins runs the suite on each broken
// copy of netscanner.py in a child process of the test binary and checks
// that it fails at the right step: the suite passing netscanner.py means
// something.
func TestConformanceCatchesBrokenPythonPlugins(t *testing.T) {
	py := python(t)
	basetest.RunBroken(t, "a Python scanner", brokenPlugins(t, py), scannertest.RunConformance)
}

// TestNotConnectedCrossesAsTheSentinel checks that netscanner.py's errors
// come back as the scanner kind's sentinel, its detail kept, and that its
// health says it is offline.
func TestNotConnectedCrossesAsTheSentinel(t *testing.T) {
	py := python(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	sc, _ := start(t, executable(t, py, script(t)), map[string]string{"address": addr})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := sc.Health(ctx)
	if err != nil || h.State != base.StateOffline || !strings.Contains(h.Detail, addr) {
		t.Errorf("Health = %+v, %v; want offline, naming %s", h, err, addr)
	}
	for name, call := range map[string]func() error{
		"Enable":   func() error { return sc.Enable(ctx) },
		"ReadCode": func() error { _, err := sc.ReadCode(ctx); return err },
	} {
		err := call()
		if !errors.Is(err, scanner.ErrNotConnected) {
			t.Errorf("%s = %v, want scanner.ErrNotConnected", name, err)
		} else if !strings.Contains(err.Error(), addr) {
			t.Errorf("%s = %q, want the plugin's detail naming %s", name, err, addr)
		}
	}
	if err := sc.Configure(ctx, scanner.APIVersion1, map[string]string{"address": addr, "colour": "red"}); err == nil || !strings.Contains(err.Error(), "config key colour") {
		t.Errorf("Configure with an unknown key = %v, want an error naming the key", err)
	}
}

// TestWatchFollowsTheConnection checks that netscanner.py's Watch opens
// with its state, then reports the connection lost (an error event and
// offline) and found again (idle) without being asked, and that the host
// follows the plugin through that stream.
func TestWatchFollowsTheConnection(t *testing.T) {
	py := python(t)
	sim := newSimulator(t)
	sc, in := start(t, executable(t, py, script(t)), map[string]string{"address": sim.addr()})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	events := make(chan base.Event, 16)
	go func() { _ = sc.(base.Watcher).Watch(ctx, func(e base.Event) error { events <- e; return nil }) }()
	next := func(what string) base.Event {
		t.Helper()
		select {
		case e := <-events:
			return e
		case <-ctx.Done():
			t.Fatalf("no event %s", what)
		}
		return base.Event{}
	}
	if e := next("at once"); e.Type != base.EventStatus || e.Health.State != base.StateIdle {
		t.Fatalf("first event %+v, want status idle", e)
	}
	// The host's own stream must be open too before the connection drops:
	// a watch sees the events after it opened, not before.
	for end := time.Now().Add(30 * time.Second); in.Status().Events != pluginhost.EventsWatched; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("the host does not watch the plugin: %+v", in.Status())
		}
	}
	sim.mu.Lock()
	for _, c := range sim.conns {
		c.Close() // the scanner drops the connection
	}
	sim.mu.Unlock()
	if e := next("when the connection is lost"); e.Type != base.EventError || e.Health.State != base.StateOffline || e.ErrorCode != scanner.ErrNotConnected.Error() {
		t.Fatalf("event %+v, want an error event %q, offline", e, scanner.ErrNotConnected)
	}
	for {
		e := next("when the plugin connects again")
		if e.Type == base.EventStatus && e.Health.State == base.StateIdle {
			break
		}
	}
	// The host's own stream sees the same events, a moment later perhaps.
	var st pluginhost.Status
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if st = in.Status(); st.Events == pluginhost.EventsWatched && st.Health == base.StateIdle && strings.HasPrefix(st.LastError, scanner.ErrNotConnected.Error()) {
			return
		}
	}
	t.Errorf("the host's status of the plugin is %+v, want it watched, idle, with the error event as its last error", st)
}

// selfSigned returns a fresh certificate for localhost, as go-plugin's
// host makes for AutoMTLS, and its PEM.
func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestHandshakeAndMutualTLS runs netscanner.py as go-plugin would, by hand:
// it refuses to run without the magic cookie; with it, it prints the
// handshake line, serves the host that holds the certificate it was given,
// and refuses a client with another certificate or none.
func TestHandshakeAndMutualTLS(t *testing.T) {
	py := python(t)
	path := executable(t, py, script(t))
	out, err := exec.Command(path).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "posrt") {
		t.Errorf("run by hand: %v, %q; want a failure explaining it is a posrt plugin", err, out)
	}

	host, hostPEM := selfSigned(t)
	other, _ := selfSigned(t)
	cmd := exec.Command(path)
	cmd.Env = []string{
		base.Handshake.MagicCookieKey + "=" + base.Handshake.MagicCookieValue,
		"PLUGIN_PROTOCOL_VERSIONS=1", "PLUGIN_CLIENT_CERT=" + hostPEM, "PLUGIN_UNIX_SOCKET_DIR=" + t.TempDir(),
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed when it has exited
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	lines := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- l
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(15 * time.Second):
		t.Fatal("no handshake line within 15s")
	}
	parts := strings.Split(strings.TrimSpace(line), "|")
	if len(parts) != 6 || parts[0] != "1" || parts[1] != "1" || parts[2] != "unix" || parts[4] != "grpc" {
		t.Fatalf("handshake line %q, want 1|1|unix|PATH|grpc|CERT", line)
	}
	der, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		t.Fatalf("the handshake's certificate is not unpadded base64 as go-plugin reads it: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("the handshake's certificate: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	info := func(certs []tls.Certificate) error {
		creds := credentials.NewTLS(&tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: certs, MinVersion: tls.VersionTLS12})
		conn, err := grpc.NewClient("unix:"+parts[3], grpc.WithTransportCredentials(creds))
		if err != nil {
			return err
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = basepb.NewBaseClient(conn).Info(ctx, &basepb.InfoRequest{})
		return err
	}
	if err := info([]tls.Certificate{host}); err != nil {
		t.Errorf("Info with the host's certificate: %v", err)
	}
	if err := info([]tls.Certificate{other}); err == nil {
		t.Error("Info with another certificate was answered")
	}
	if err := info(nil); err == nil {
		t.Error("Info without a client certificate was answered")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Error("still running 10s after SIGTERM")
	}
}
