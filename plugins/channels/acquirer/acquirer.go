package acquirer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/acquirer/iso8583"
	"github.com/posrt/posrt/plugins/channels/internal/probe"
)

// Name is the plugin's name, as posrt serves it (posrt plugin serve
// acquirer).
const Name = "acquirer"

// Version is the plugin's version.
const Version = "0.1.0"

// MACMode says whether and how the PIN pad MACs the messages.
type MACMode string

// MAC modes (config key "mac").
const (
	// MACX919 and MACECB name the PIN pad's algorithm, which must be the
	// host's; the plugin sends the same MAC data with either (the PIN pad
	// computes the MAC), so they differ only in what they declare.
	MACX919 MACMode = "x919"
	MACECB  MACMode = "ecb"
	// MACNone sends no field 64, for a host that wants none.
	MACNone MACMode = "none"
)

// signIn is what the plugin remembers of a TID's sign-in.
type signIn struct{ mid, batch string }

type config struct {
	address    string
	tls        *tls.Config // nil: plain TCP
	tpdu       iso8583.TPDU
	timeout    time.Duration
	mac        MACMode
	tidCheck   bool
	hostZone   *time.Location
	maxFrame   int
	echoEvery  time.Duration // how long a Health probe's answer stands
	configured bool
}

func defaultConfig() config {
	return config{
		tpdu:      iso8583.TPDU{Dest: [2]byte{0x00, 0x03}, Src: [2]byte{0x00, 0x00}},
		timeout:   60 * time.Second,
		mac:       MACX919,
		tidCheck:  true,
		hostZone:  time.FixedZone("CST", 8*3600),
		maxFrame:  4096,
		echoEvery: DefaultEchoEvery,
	}
}

// DefaultEchoEvery is how long the answer of one Health probe of the host
// (an echo, or a connection before any sign-in) stands: posrt asks Health
// every second to know the plugin answers, and a host is echoed at most
// this often, as an idle terminal does.
const DefaultEchoEvery = probe.DefaultEvery

// Acquirer is the China UnionPay-style ISO 8583 card acquirer channel: it
// implements channels.Acquirer over TCP (TLS optional) to the host named by
// its configuration, one connection per request, with the MACs computed and
// checked by the PIN pad through channels.Security. It holds no key, PIN or
// track in the clear and logs nothing.
type Acquirer struct {
	now func() time.Time

	mu       sync.Mutex
	cfg      config
	sec      channels.Security
	signedIn map[string]signIn // TID -> its last sign-in
	netTrace int
	uploaded map[[2]string]int  // TID, batch -> records uploaded
	balanced map[[2]string]bool // TID, batch -> the settlement's verdict
	probe    probe.Cache        // the last Health probe of the host
}

var (
	_ channels.Acquirer     = (*Acquirer)(nil)
	_ channels.SecurityUser = (*Acquirer)(nil)
)

// New returns an unconfigured acquirer. It does no I/O.
func New() *Acquirer {
	return &Acquirer{now: time.Now, cfg: defaultConfig(), signedIn: map[string]signIn{},
		uploaded: map[[2]string]int{}, balanced: map[[2]string]bool{}}
}

func info() base.Info {
	return base.Info{Kind: base.KindAcquirer, Name: Name, Version: Version, APIVersions: channels.APIVersions}
}

// Info implements base.Base.
func (a *Acquirer) Info(context.Context) (base.Info, error) { return info(), nil }

// UseSecurity implements channels.SecurityUser.
func (a *Acquirer) UseSecurity(sec channels.Security) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sec = sec
}

// Configure implements base.Base; see the package README for the keys. A
// rejected configuration leaves the plugin as it was.
func (a *Acquirer) Configure(_ context.Context, apiVersion string, m map[string]string) error {
	if err := base.CheckAPIVersion(info(), apiVersion); err != nil {
		return err
	}
	c := defaultConfig()
	var ca, serverName string
	useTLS := false
	keys := []string{"address", "tls", "tls_ca", "tls_server_name", "tpdu", "timeout", "echo_every", "mac", "tid_check", "host_zone"}
	err := base.EachConfigKey(m, Name, keys, func(k base.ConfigKey) error {
		switch k.Name {
		case "address":
			if _, port, ok := strings.Cut(k.Value, ":"); !ok || port == "" {
				return k.Bad("host:port")
			}
			c.address = k.Value
		case "tls", "tid_check":
			if k.Value == "" {
				return nil
			}
			b, err := k.Bool()
			if err != nil {
				return err
			}
			if k.Name == "tls" {
				useTLS = b
			} else {
				c.tidCheck = b
			}
		case "tls_ca":
			ca = k.Value
		case "tls_server_name":
			serverName = k.Value
		case "tpdu":
			b, err := hex.DecodeString(k.Value)
			if err != nil || len(b) != 5 || b[0] != iso8583.TPDUID {
				return k.Bad("10 hex digits starting 60, such as 6000030000")
			}
			c.tpdu = iso8583.TPDU{Dest: [2]byte{b[1], b[2]}, Src: [2]byte{b[3], b[4]}}
		case "timeout", "echo_every":
			d, err := time.ParseDuration(k.Value)
			if err != nil || d <= 0 {
				return k.Bad("a positive duration such as 60s")
			}
			if k.Name == "timeout" {
				c.timeout = d
			} else {
				c.echoEvery = d
			}
		case "mac":
			switch MACMode(k.Value) {
			case MACX919, MACECB, MACNone:
				c.mac = MACMode(k.Value)
			default:
				return k.Bad("x919, ecb or none")
			}
		case "host_zone":
			loc, err := time.LoadLocation(k.Value)
			if err != nil {
				return k.Bad("a time zone such as Asia/Shanghai")
			}
			c.hostZone = loc
		}
		return nil
	})
	if err != nil {
		return err
	}
	if c.address == "" {
		return fmt.Errorf("config key address: required by %s (host:port of the acquirer host)", Name)
	}
	if useTLS {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
		if ca != "" {
			pem, err := os.ReadFile(ca)
			if err != nil {
				return fmt.Errorf("config key tls_ca: reading %s: %w", ca, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return fmt.Errorf("config key tls_ca: %s holds no PEM certificate", ca)
			}
			tc.RootCAs = pool
		}
		c.tls = tc
	} else if ca != "" || serverName != "" {
		return fmt.Errorf("config keys tls_ca and tls_server_name: need tls = true")
	}
	c.configured = true
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cfg = c
	a.probe.Reset(c.echoEvery)
	return nil
}

// Health implements base.Base: an echo (0800, 60.3 301) under the TID last
// signed in, or, before any sign-in, a connection to the host; its answer
// stands for echo_every, so the host is not echoed at each of posrt's
// liveness checks.
func (a *Acquirer) Health(ctx context.Context) (base.Health, error) {
	return a.probe.Health(ctx, a.probeHost), nil
}

// Watch implements base.Watcher: the host's state as the last probe or
// call found it, and an error event for every call that could not reach
// it or got an answer that cannot be trusted.
func (a *Acquirer) Watch(ctx context.Context, send func(base.Event) error) error {
	return a.probe.Watch(ctx, send, a.probeHost)
}

// probeHost asks the host: an echo under the TID last signed in, or,
// before any sign-in, a connection.
func (a *Acquirer) probeHost(ctx context.Context) base.Health {
	a.mu.Lock()
	cfg := a.cfg
	var tid, mid, batch string
	for t, si := range a.signedIn {
		tid, mid, batch = t, si.mid, si.batch
	}
	trace := a.nextNetTrace()
	a.mu.Unlock()
	if !cfg.configured {
		return base.Health{State: base.StateOffline, Detail: "not configured"}
	}
	if tid == "" {
		conn, err := dial(ctx, cfg)
		if err != nil {
			return base.Health{State: base.StateOffline, Detail: err.Error()}
		}
		_ = conn.Close()
		return base.Health{State: base.StateIdle, Detail: "host reachable; not signed in"}
	}
	k := channels.Key{TID: tid, MID: mid, Batch: batch, Trace: trace}
	b, err := (&iso8583.EchoRequest{Key: k}).Pack()
	if err != nil {
		return base.Health{State: base.StateError, Detail: err.Error()}
	}
	reply, err := roundTrip(ctx, cfg, b)
	if err != nil {
		return base.Health{State: base.StateOffline, Detail: err.Error()}
	}
	var ans iso8583.EchoResponse
	if err := ans.Unpack(reply); err != nil || ans.Key.Trace != trace {
		return base.Health{State: base.StateError, Detail: "echo answered with a message that does not match"}
	}
	if ans.Code != channels.CodeApproved {
		return base.Health{State: base.StateError, Detail: "echo answered " + ans.Code + ": " + iso8583.Describe(ans.Code).English}
	}
	return base.Health{State: base.StateIdle}
}

// nextNetTrace is the trace of a network management message (sign-in,
// echo), outside the terminal's financial traces; a.mu is held.
func (a *Acquirer) nextNetTrace() string {
	a.netTrace = a.netTrace%999999 + 1
	return fmt.Sprintf("%06d", a.netTrace)
}
