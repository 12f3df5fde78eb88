package hid

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/scanner"
	"github.com/posrt/posrt/plugins/scanner/internal/device"
)

// Driver defaults.
const (
	DefaultMaxLength = 512
	DefaultReconnect = time.Second
	// DefaultSymbology is the symbology of every scan when the
	// configuration names none: a keyboard wedge types the code only.
	DefaultSymbology scanner.Symbology = "unknown"
)

// evioCGrab is EVIOCGRAB, _IOW('E', 0x90, int) of linux/input.h.
const evioCGrab = 0x40044590

// Grab asks the kernel to give the input device open as fd to this
// process alone (EVIOCGRAB), so that its keystrokes reach no console.
type Grab func(fd uintptr) error

// GrabEvdev is the Grab of a real input device.
func GrabEvdev(fd uintptr) error { return unix.IoctlSetInt(int(fd), evioCGrab, 1) }

// Driver is the keyboard-wedge scanner driver. New returns it
// unconfigured: its device calls fail with scanner.ErrNotConnected until
// Configure, which starts reading the event device in a goroutine; Close
// stops it. It is safe for concurrent use.
type Driver struct {
	dev  *device.Scanner
	grab Grab
}

var _ scanner.Scanner = (*Driver)(nil)

// New returns an unconfigured driver logging with base.Logger and grabbing
// with GrabEvdev. It does no I/O.
func New() *Driver { return NewWith(base.Logger(), GrabEvdev) }

// NewWith returns an unconfigured driver logging bad reads, refused grabs
// and connection changes to log, and grabbing the device with grab.
func NewWith(log hclog.Logger, grab Grab) *Driver {
	return &Driver{dev: device.New(log, time.Now), grab: grab}
}

type config struct {
	device    string
	grab      bool
	maxLength int
	reconnect time.Duration
	symbology scanner.Symbology
}

func driverInfo() base.Info {
	return base.Info{Kind: base.KindScanner, Name: "scanner-hid", Version: "0.1.0", APIVersions: scanner.APIVersions}
}

// Info implements base.Base.
func (d *Driver) Info(context.Context) (base.Info, error) { return driverInfo(), nil }

// Configure implements base.Base. It checks every key (see the README)
// before it changes anything; a configuration accepted closes the device
// open, disables the scanner and opens the device configured in a
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
		Open: func() (io.ReadCloser, string, error) { return d.open(cfg) },
		Decode: func(r io.Reader, code func(string), bad func(string)) error {
			return decode(r, cfg.maxLength, code, bad)
		},
		Retry:     cfg.reconnect,
		Symbology: cfg.symbology,
	})
	return nil
}

// open opens the event device without blocking (a FIFO without a writer
// opens too) and grabs it; a grab refused is the note of the device.
func (d *Driver) open(cfg config) (io.ReadCloser, string, error) {
	f, err := os.OpenFile(cfg.device, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, "", err
	}
	if !cfg.grab {
		return f, "not grabbed (grab = false): its keystrokes also reach the console", nil
	}
	if err := d.grab(f.Fd()); err != nil {
		return f, fmt.Sprintf("not grabbed: EVIOCGRAB refused (%v): its keystrokes also reach the console", err), nil
	}
	return f, "", nil
}

// decode reads input events from r until reading fails.
func decode(r io.Reader, maxLength int, code, bad func(string)) error {
	br := bufio.NewReader(r)
	e := Events{MaxLength: maxLength}
	for {
		ev, err := ReadEvent(br, WordBytes)
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = errors.New("the device closed in the middle of an event")
			}
			return err
		}
		if c, why, end := e.Feed(ev); end && why != "" {
			bad(why)
		} else if end {
			code(c)
		}
	}
}

// Close stops reading and closes the device, which ends the grab.
func (d *Driver) Close() { d.dev.Close() }

// Health implements base.Base: idle while the device is open (saying so
// when it is not grabbed), offline with why otherwise.
func (d *Driver) Health(context.Context) (base.Health, error) { return d.dev.Health(), nil }

// Watch implements base.Watcher: the device going offline and coming
// back, and every bad read, as they happen.
func (d *Driver) Watch(ctx context.Context, send func(base.Event) error) error {
	return d.dev.Watch(ctx, send)
}

// Enable implements scanner.Scanner. The scanner itself types all the
// time; while disabled, the driver drops what it types.
func (d *Driver) Enable(ctx context.Context) error { return d.dev.Enable(ctx) }

// Disable implements scanner.Scanner.
func (d *Driver) Disable(ctx context.Context) error { return d.dev.Disable(ctx) }

// ReadCode implements scanner.Scanner; it waits also while the device is
// offline.
func (d *Driver) ReadCode(ctx context.Context) (scanner.Scan, error) { return d.dev.ReadCode(ctx) }

func parseConfig(m map[string]string) (config, error) {
	c := config{grab: true, maxLength: DefaultMaxLength, reconnect: DefaultReconnect, symbology: DefaultSymbology}
	keys := []string{"device", "grab", "max_length", "reconnect", "symbology"}
	err := base.EachConfigKey(m, "scanner-hid", keys, func(k base.ConfigKey) error {
		if k.Value == "" {
			return nil // the default
		}
		var err error
		switch k.Name {
		case "device":
			c.device = k.Value
		case "grab":
			c.grab, err = k.Bool()
		case "max_length":
			n, aerr := strconv.Atoi(k.Value)
			if aerr != nil || n <= 0 {
				return k.Bad("a positive number of characters")
			}
			c.maxLength = n
		case "reconnect":
			d, perr := time.ParseDuration(k.Value)
			if perr != nil || d <= 0 {
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
		return err
	})
	if err != nil {
		return config{}, err
	}
	if c.device == "" {
		return config{}, errors.New("config key device: missing: name the scanner's event device, such as /dev/input/by-id/usb-...-event-kbd")
	}
	return c, nil
}
