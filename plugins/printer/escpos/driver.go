package escpos

import (
	"context"
	"errors"
	"fmt"
	"image/png"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/printer"
)

// Driver defaults and bounds.
const (
	// RememberedJobs is how many of the most recent printed job IDs the
	// driver remembers (and saves under state_dir) to recognise a retry.
	RememberedJobs = 256
	// DefaultStatusTimeout is how long the driver waits for the answer
	// to one DLE EOT before it takes the printer as offline.
	DefaultStatusTimeout = time.Second
	// DefaultPrintTimeout is how long the driver waits for the printer
	// to have processed a job.
	DefaultPrintTimeout = 30 * time.Second
	// DefaultStatusEvery is how often the driver asks an idle printer for
	// its status, to report changes as events.
	DefaultStatusEvery = 2 * time.Second
	// connectTimeout bounds opening the transport.
	connectTimeout = 3 * time.Second
	// pollInterval is how often the driver asks for the status while it
	// waits for a job to be processed.
	pollInterval = 50 * time.Millisecond
	// jobsFile is the name of the file under state_dir holding the
	// printed job IDs.
	jobsFile = "escpos-jobs"
	// jobsHeader opens the jobs file.
	jobsHeader = "posrt escpos printed job ids v1"
)

// Driver is the ESC/POS receipt printer driver: it implements
// printer.Printer over raw TCP, a device file or a serial line. New
// returns it unconfigured; every device call before a successful
// Configure fails with printer.ErrOffline. It opens its transport at the
// first device call and again after the connection failed. It is safe for
// concurrent use; device calls are serialised.
type Driver struct {
	mu         sync.Mutex
	cfg        config
	configured bool
	l          *link // nil until needed
	jobs       jobMemory
	stop       chan struct{} // closed to end the status watch of this configuration
	seen       bool          // a status was read (or failed) since Configure
	mon        base.Monitor
}

var _ printer.Printer = (*Driver)(nil)

type config struct {
	transport     Transport
	stateDir      string
	drawer        bool
	drawerPin     int
	drawerOpen    Level
	statusTimeout time.Duration
	printTimeout  time.Duration
	statusEvery   time.Duration // 0: no status watch between calls
	opts          Options
}

// New returns an unconfigured driver. It does no I/O.
func New() *Driver { return &Driver{} }

func driverInfo() base.Info {
	return base.Info{Kind: base.KindPrinter, Name: "escpos", Version: "0.1.0", APIVersions: printer.APIVersions}
}

// Info implements base.Base.
func (d *Driver) Info(context.Context) (base.Info, error) { return driverInfo(), nil }

// Configure implements base.Base. It checks every key (see the package
// README) and reads the logo and the saved job IDs before it changes
// anything, so a rejected configuration leaves the driver as it was. It
// does not connect to the printer.
func (d *Driver) Configure(_ context.Context, apiVersion string, m map[string]string) error {
	if err := base.CheckAPIVersion(driverInfo(), apiVersion); err != nil {
		return err
	}
	cfg, err := parseConfig(m)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	jobs := jobMemory{ids: d.jobs.ids}
	if cfg.stateDir != "" {
		jobs.path = filepath.Join(cfg.stateDir, jobsFile)
		saved, err := loadJobs(jobs.path)
		if err != nil {
			return err
		}
		jobs.ids = mergeJobs(saved, d.jobs.ids)
	}
	if d.l != nil && d.cfg.transport != cfg.transport {
		d.dropLocked()
	}
	d.cfg, d.jobs, d.configured, d.seen = cfg, jobs, true, false
	if d.stop != nil {
		close(d.stop)
		d.stop = nil
	}
	if cfg.statusEvery > 0 {
		d.stop = make(chan struct{})
		go d.watchStatus(d.stop, cfg.statusEvery)
	}
	return nil
}

// Close ends the status watch and closes the connection.
func (d *Driver) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stop != nil {
		close(d.stop)
		d.stop = nil
	}
	d.dropLocked()
}

// watchStatus asks the printer for its status every interval while no
// call is under way, until stop, so that a cover opened, paper running
// low or a printer switched off and on again are status events without
// the runtime asking.
func (d *Driver) watchStatus(stop chan struct{}, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if !d.mu.TryLock() { // a job or a status call is under way; it tells
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*d.cfg.statusTimeout+connectTimeout)
		_, _ = d.statusLocked(ctx)
		cancel()
		d.mu.Unlock()
	}
}

// Health implements base.Base: idle when the printer is ready, offline
// when it does not answer, error otherwise, with the conditions; the
// detail lists them, comma-separated. It answers from the last status the
// driver saw (at each call, and every status_every between calls) and
// does no I/O, but for the first Health after Configure, which asks.
func (d *Driver) Health(ctx context.Context) (base.Health, error) {
	d.mu.Lock()
	if d.configured && !d.seen {
		_, _ = d.statusLocked(ctx)
	}
	d.mu.Unlock()
	return d.mon.Health(ctx)
}

// Watch implements base.Watcher: every change of the printer's status,
// and every receipt a condition stopped, as it happens.
func (d *Driver) Watch(ctx context.Context, send func(base.Event) error) error {
	return d.mon.Watch(ctx, send)
}

// sawLocked tells the watchers the status just read, or the failure to
// read it.
func (d *Driver) sawLocked(st printer.Status, err error) {
	d.seen = true
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		d.mon.Set(base.Health{State: base.StateOffline, Detail: err.Error(), Conditions: []string{string(printer.ConditionOffline)}})
		return
	}
	if err != nil {
		return
	}
	names := make([]string, len(st.Conditions))
	for i, c := range st.Conditions {
		names[i] = string(c)
	}
	h := base.Health{State: base.StateIdle, Detail: strings.Join(names, ","), Conditions: names}
	switch {
	case st.Has(printer.ConditionOffline):
		h.State = base.StateOffline
	case !st.Ready():
		h.State = base.StateError
	}
	d.mon.Set(h)
}

var offline = printer.Status{Conditions: []printer.Condition{printer.ConditionOffline}}

// Status implements printer.Printer with DLE EOT 1 to 4. A printer that
// cannot be reached or does not answer within status_timeout is offline.
func (d *Driver) Status(ctx context.Context) (printer.Status, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st, err := d.statusLocked(ctx)
	if errors.Is(err, printer.ErrOffline) && !errors.Is(err, errGarbled) {
		return offline, nil
	}
	return st, err
}

var errGarbled = errors.New("garbled status")

// statusLocked connects if need be and asks for the status. Failing to
// connect, no answer and a broken connection fail with ErrOffline; a
// garbled answer with ErrOffline and errGarbled.
func (d *Driver) statusLocked(ctx context.Context) (printer.Status, error) {
	if !d.configured {
		return printer.Status{}, fmt.Errorf("%w: not configured", printer.ErrOffline)
	}
	l, err := d.linkLocked(ctx)
	if err != nil {
		d.sawLocked(printer.Status{}, err)
		return printer.Status{}, err
	}
	l.drain()
	r, _, err := d.queryLocked(ctx, l)
	if err != nil {
		return printer.Status{}, err
	}
	st := r.Decode(d.cfg.drawerOpen)
	d.sawLocked(st, nil)
	return st, nil
}

// linkLocked returns the open link, opening it if need be.
func (d *Driver) linkLocked(ctx context.Context) (*link, error) {
	if d.l != nil {
		return d.l, nil
	}
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	l, err := d.cfg.transport.open(cctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: opening %s: %w", printer.ErrOffline, d.cfg.transport, err)
	}
	d.l = l
	return l, nil
}

func (d *Driver) dropLocked() {
	if d.l != nil {
		_ = d.l.close()
		d.l = nil
	}
}

// queryLocked sends DLE EOT 1 to 4 and reads the answers. done tells that
// an answer to GS r 1 came in between: the job sent before it has been
// processed. A context error is returned as it is; any other failure
// drops the link and wraps printer.ErrOffline.
func (d *Driver) queryLocked(ctx context.Context, l *link) (r Replies, done bool, err error) {
	answers := [4]*byte{&r.Printer, &r.Offline, &r.Error, &r.Paper}
	for i, req := range [][]byte{StatusPrinter, StatusOffline, StatusError, StatusPaper} {
		if err := l.write(ctx, req); err != nil {
			return r, done, d.failLocked(ctx, fmt.Errorf("asking for the status: %w", err))
		}
		for {
			b, err := l.readByte(ctx, d.cfg.statusTimeout)
			if err != nil {
				return r, done, d.failLocked(ctx, fmt.Errorf("reading the answer to DLE EOT %d: %w", i+1, err))
			}
			if IsStatusReply(b) {
				*answers[i] = b
				break
			}
			if !IsPaperSensorReply(b) {
				d.dropLocked()
				err := fmt.Errorf("%w: %w: answer 0x%02X to DLE EOT %d", printer.ErrOffline, errGarbled, b, i+1)
				d.sawLocked(printer.Status{}, err)
				return r, done, err
			}
			done = true
		}
	}
	return r, done, nil
}

// failLocked drops the link after err and returns ctx's error if it is
// done, otherwise err wrapped in printer.ErrOffline.
func (d *Driver) failLocked(ctx context.Context, err error) error {
	d.dropLocked()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	err = fmt.Errorf("%w: %w", printer.ErrOffline, err)
	d.sawLocked(printer.Status{}, err)
	return err
}

// Print implements printer.Printer. A job without an ID fails with
// printer.ErrBadJob; a job among the last RememberedJobs printed returns
// nil and sends nothing. Otherwise it encodes the document, asks for the
// status and refuses with the first blocking condition's sentinel,
// sending nothing. It remembers the job ID (and saves it under state_dir)
// before the first byte goes, then sends the job and GS r 1, and polls the
// status until the printer answers GS r 1, which it does once it has
// processed the job. A blocking condition seen meanwhile (paper out
// mid-receipt) fails with its sentinel and forgets the ID, so that the
// receipt prints whole once the condition is cleared. A deadline hit while
// the paper may be moving keeps the ID: the retry prints nothing.
func (d *Driver) Print(ctx context.Context, job printer.Job) error {
	if job.ID == "" {
		return printer.ErrBadJob
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.configured {
		return fmt.Errorf("%w: not configured", printer.ErrOffline)
	}
	if d.jobs.has(job.ID) {
		return nil
	}
	data, err := Encode(job.Document, d.cfg.opts)
	if err != nil {
		return fmt.Errorf("encoding the receipt: %w", err)
	}
	st, err := d.statusLocked(ctx)
	if err != nil {
		return err
	}
	if err := st.Err(); err != nil {
		return err
	}
	if err := d.jobs.add(job.ID); err != nil {
		return err
	}
	data = append(data, PaperSensor...)
	if err := d.l.write(ctx, data); err != nil {
		d.forgetLocked(job.ID)
		return d.failLocked(ctx, fmt.Errorf("sending the receipt: %w", err))
	}
	deadline := time.Now().Add(d.cfg.printTimeout)
	for {
		b, err := d.l.readByte(ctx, pollInterval)
		switch {
		case err == nil && IsPaperSensorReply(b):
			return nil
		case err == nil:
			continue // a late answer to an earlier DLE EOT
		case !errors.Is(err, errNoReply):
			return d.failLocked(ctx, fmt.Errorf("waiting for the receipt to print: %w", err))
		}
		r, done, err := d.queryLocked(ctx, d.l)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		st := r.Decode(d.cfg.drawerOpen)
		d.sawLocked(st, nil)
		if err := st.Err(); err != nil {
			d.forgetLocked(job.ID)
			d.mon.Report(err.Error(), fmt.Sprintf("receipt %s stopped midway: it prints whole when printed again", job.ID))
			return fmt.Errorf("printing the receipt: %w", err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: the printer did not finish the receipt within %s", printer.ErrOffline, d.cfg.printTimeout)
		}
	}
}

// forgetLocked forgets id after a job that stopped midway. Failing to
// save is not reported: the ID stays in the file, and a retry prints
// nothing rather than twice.
func (d *Driver) forgetLocked(id printer.JobID) { _ = d.jobs.remove(id) }

// OpenDrawer implements printer.Printer with ESC p, followed by GS r 1
// whose answer confirms the printer has pulsed the drawer. It fails with
// printer.ErrNoDrawer when drawer = false, and with the sentinel of a
// blocking condition: a printer that is not ready holds ESC p in its buffer
// and would pop the drawer open later, when nobody asked.
func (d *Driver) OpenDrawer(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.configured && !d.cfg.drawer {
		return printer.ErrNoDrawer
	}
	st, err := d.statusLocked(ctx)
	if err != nil {
		return err
	}
	if err := st.Err(); err != nil {
		return err
	}
	if err := d.l.write(ctx, append(DrawerKick(d.cfg.drawerPin), PaperSensor...)); err != nil {
		return d.failLocked(ctx, fmt.Errorf("kicking the drawer: %w", err))
	}
	for {
		b, err := d.l.readByte(ctx, d.cfg.statusTimeout)
		switch {
		case err == nil && IsPaperSensorReply(b):
			return nil
		case err == nil:
			continue // a late answer to an earlier DLE EOT
		case errors.Is(err, errNoReply):
			return fmt.Errorf("%w: the printer did not confirm the drawer kick within %s", printer.ErrOffline, d.cfg.statusTimeout)
		default:
			return d.failLocked(ctx, fmt.Errorf("waiting for the drawer kick: %w", err))
		}
	}
}

func parseConfig(m map[string]string) (config, error) {
	c := config{drawer: true, drawerPin: 2, drawerOpen: LevelHigh, statusTimeout: DefaultStatusTimeout, printTimeout: DefaultPrintTimeout, statusEvery: DefaultStatusEvery}
	keys := []string{"address", "device", "serial", "baud", "state_dir", "drawer", "drawer_pin", "drawer_open_level",
		"status_timeout", "print_timeout", "status_every", "qr_module_size", "logo", "cut_feed"}
	baud := ""
	err := base.EachConfigKey(m, "escpos", keys, func(k base.ConfigKey) error {
		if k.Value == "" {
			return nil // the default
		}
		var err error
		switch k.Name {
		case "address":
			host, port, err := net.SplitHostPort(k.Value)
			if err != nil {
				host, port = k.Value, DefaultPort
			}
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || host == "" || strings.ContainsAny(host, " /") {
				return k.Bad("host:port such as 192.168.1.50:9100")
			}
			c.transport.Address = net.JoinHostPort(host, port)
		case "device":
			if !filepath.IsAbs(k.Value) {
				return k.Bad("an absolute device path such as /dev/usb/lp0")
			}
			c.transport.Device = k.Value
		case "serial":
			if !filepath.IsAbs(k.Value) {
				return k.Bad("an absolute serial port path such as /dev/ttyS0")
			}
			c.transport.Serial = k.Value
		case "baud":
			n, err := strconv.Atoi(k.Value)
			if err != nil || n < 50 || n > 4000000 {
				return k.Bad("a line speed in baud such as 19200")
			}
			c.transport.Baud, baud = n, k.Value
		case "state_dir":
			if fi, err := os.Stat(k.Value); err != nil || !fi.IsDir() {
				return k.Bad("an existing directory")
			}
			c.stateDir = k.Value
		case "drawer":
			c.drawer, err = k.Bool()
		case "drawer_pin":
			if k.Value != "2" && k.Value != "5" {
				return k.Bad("2 or 5, the drawer kick connector pin")
			}
			c.drawerPin, _ = strconv.Atoi(k.Value)
		case "drawer_open_level":
			c.drawerOpen = Level(k.Value)
			if c.drawerOpen != LevelHigh && c.drawerOpen != LevelLow {
				return k.Bad("high or low")
			}
		case "status_every":
			dur, err := time.ParseDuration(k.Value)
			if err != nil || dur < 0 {
				return k.Bad("a duration such as 2s, or 0 for none")
			}
			c.statusEvery = dur
		case "status_timeout", "print_timeout":
			dur, err := time.ParseDuration(k.Value)
			if err != nil || dur <= 0 {
				return k.Bad("a positive duration such as 500ms")
			}
			if k.Name == "status_timeout" {
				c.statusTimeout = dur
			} else {
				c.printTimeout = dur
			}
		case "qr_module_size":
			n, err := strconv.Atoi(k.Value)
			if err != nil || n < 1 || n > 16 {
				return k.Bad("a module size of 1 to 16 dots")
			}
			c.opts.QRModuleSize = n
		case "cut_feed":
			n, err := strconv.Atoi(k.Value)
			if err != nil || n < 0 || n > 255 {
				return k.Bad("a feed of 0 to 255 motion units")
			}
			c.opts.CutFeed = byte(n)
		case "logo":
			r, err := readLogo(k.Value)
			if err != nil {
				return fmt.Errorf("config key logo: %w", err)
			}
			c.opts.Logo = &r
		}
		return err
	})
	if err != nil {
		return config{}, err
	}
	var set []string
	for _, k := range []string{"address", "device", "serial"} {
		if strings.TrimSpace(m[k]) != "" {
			set = append(set, k)
		}
	}
	switch {
	case len(set) == 0:
		return config{}, errors.New("config: one of address, device or serial is required")
	case len(set) > 1:
		return config{}, fmt.Errorf("config keys %s: give only one", strings.Join(set, " and "))
	case baud != "" && c.transport.Serial == "":
		return config{}, errors.New("config key baud: only with serial")
	case c.transport.Serial != "" && c.transport.Baud == 0:
		c.transport.Baud = DefaultBaud
	}
	return c, nil
}

func readLogo(path string) (Raster, error) {
	f, err := os.Open(path)
	if err != nil {
		return Raster{}, fmt.Errorf("opening the logo: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return Raster{}, fmt.Errorf("decoding the logo as PNG: %w", err)
	}
	return RasterFromImage(img)
}
