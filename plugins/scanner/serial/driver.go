package serial

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	bugserial "go.bug.st/serial"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/scanner"
	"github.com/posrt/posrt/plugins/scanner/internal/device"
)

// Driver defaults.
const (
	DefaultDevice    = "/dev/ttyACM0"
	DefaultBaud      = 9600
	DefaultReconnect = time.Second
	// DefaultSymbology is the symbology of every scan when the
	// configuration names none: a serial scanner sends the code only.
	DefaultSymbology scanner.Symbology = "unknown"
)

// Driver is the serial scanner driver. New returns it unconfigured: its
// device calls fail with scanner.ErrNotConnected until Configure, which
// starts reading the port in a goroutine; Close stops it. It is safe for
// concurrent use.
type Driver struct {
	dev *device.Scanner
}

var _ scanner.Scanner = (*Driver)(nil)

// New returns an unconfigured driver logging with base.Logger. It does no
// I/O.
func New() *Driver { return NewWithLogger(base.Logger()) }

// NewWithLogger returns an unconfigured driver logging bad reads and
// connection changes to log.
func NewWithLogger(log hclog.Logger) *Driver {
	return &Driver{dev: device.New(log, time.Now)}
}

type config struct {
	device    string
	baud      int
	lines     Lines
	reconnect time.Duration
	symbology scanner.Symbology
}

func driverInfo() base.Info {
	return base.Info{Kind: base.KindScanner, Name: "scanner-serial", Version: "0.1.0", APIVersions: scanner.APIVersions}
}

// Info implements base.Base.
func (d *Driver) Info(context.Context) (base.Info, error) { return driverInfo(), nil }

// Configure implements base.Base. It checks every key (see the README)
// before it changes anything; a configuration accepted closes the port
// open, disables the scanner and opens the port configured in a
// goroutine. ReadCode calls waiting keep waiting.
func (d *Driver) Configure(_ context.Context, apiVersion string, m map[string]string) error {
	if err := base.CheckAPIVersion(driverInfo(), apiVersion); err != nil {
		return err
	}
	cfg, err := parseConfig(m)
	if err != nil {
		return err
	}
	d.dev.Start(device.Source{
		Name: cfg.device,
		Open: func() (io.ReadCloser, string, error) {
			p, err := bugserial.Open(cfg.device, &bugserial.Mode{BaudRate: cfg.baud, DataBits: 8, Parity: bugserial.NoParity, StopBits: bugserial.OneStopBit})
			return p, "", err
		},
		Decode: func(r io.Reader, code func(string), bad func(string)) error {
			l := cfg.lines
			buf := make([]byte, 256)
			for {
				n, err := r.Read(buf)
				for _, b := range buf[:n] {
					if c, why, end := l.Feed(b); end && why != "" {
						bad(why)
					} else if end {
						code(c)
					}
				}
				if err != nil {
					return err
				}
			}
		},
		Retry:     cfg.reconnect,
		Symbology: cfg.symbology,
	})
	return nil
}

// Close stops reading and closes the port.
func (d *Driver) Close() { d.dev.Close() }

// Health implements base.Base: idle while the port is open, offline with
// why otherwise.
func (d *Driver) Health(context.Context) (base.Health, error) { return d.dev.Health(), nil }

// Watch implements base.Watcher: the device going offline and coming
// back, and every bad read, as they happen.
func (d *Driver) Watch(ctx context.Context, send func(base.Event) error) error {
	return d.dev.Watch(ctx, send)
}

// Enable implements scanner.Scanner. The scanner itself decodes all the
// time; while disabled, the driver drops what it sends.
func (d *Driver) Enable(ctx context.Context) error { return d.dev.Enable(ctx) }

// Disable implements scanner.Scanner.
func (d *Driver) Disable(ctx context.Context) error { return d.dev.Disable(ctx) }

// ReadCode implements scanner.Scanner; it waits also while the port is
// offline.
func (d *Driver) ReadCode(ctx context.Context) (scanner.Scan, error) { return d.dev.ReadCode(ctx) }

func parseConfig(m map[string]string) (config, error) {
	c := config{
		device: DefaultDevice, baud: DefaultBaud, reconnect: DefaultReconnect, symbology: DefaultSymbology,
		lines: Lines{Terminator: TerminatorCR, MaxLength: DefaultMaxLength},
	}
	keys := []string{"device", "baud", "terminator", "prefix", "suffix", "max_length", "reconnect", "symbology"}
	err := base.EachConfigKey(m, "scanner-serial", keys, func(k base.ConfigKey) error {
		if k.Value == "" && k.Name != "prefix" && k.Name != "suffix" {
			return nil // the default
		}
		switch k.Name {
		case "device":
			c.device = k.Value
		case "baud":
			n, err := strconv.Atoi(k.Value)
			if err != nil || n <= 0 {
				return k.Bad("a line speed such as 9600")
			}
			c.baud = n
		case "terminator":
			switch t := Terminator(k.Value); t {
			case TerminatorCR, TerminatorLF, TerminatorCRLF:
				c.lines.Terminator = t
			default:
				return k.Bad("cr, lf or crlf")
			}
		case "prefix", "suffix":
			v := m[k.Name] // as configured: a prefix may end in a space
			for _, b := range []byte(v) {
				if b < 0x20 || b == 0x7f {
					return k.Bad("printable text")
				}
			}
			if k.Name == "prefix" {
				c.lines.Prefix = v
			} else {
				c.lines.Suffix = v
			}
		case "max_length":
			n, err := strconv.Atoi(k.Value)
			if err != nil || n <= 0 {
				return k.Bad("a positive number of bytes")
			}
			c.lines.MaxLength = n
		case "reconnect":
			d, err := time.ParseDuration(k.Value)
			if err != nil || d <= 0 {
				return k.Bad("a positive duration such as 1s")
			}
			c.reconnect = d
		case "symbology":
			for _, r := range k.Value {
				if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_') {
					return k.Bad("a symbology name such as qr, code128 or ean13")
				}
			}
			c.symbology = scanner.Symbology(k.Value)
		}
		return nil
	})
	if err != nil {
		return config{}, err
	}
	return c, nil
}
