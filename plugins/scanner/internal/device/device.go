package device

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/scanner"
	"github.com/posrt/posrt/plugins/scanner/internal/queue"
)

// Source is how a driver reaches its device and decodes what it sends.
type Source struct {
	// Name names the device in the log and in Health, such as
	// "/dev/ttyACM0".
	Name string
	// Open opens the device. A note, when not empty, is something the
	// deployer must know about the device opened (such as a grab refused);
	// it is logged and shown in Health while the device stays open.
	Open func() (rc io.ReadCloser, note string, err error)
	// Decode reads r until reading fails and returns why, calling code
	// with each code read and bad with why each bad read was refused.
	Decode func(r io.Reader, code func(string), bad func(reason string)) error
	// Retry is how long the Scanner waits before it opens the device again
	// after opening or reading it failed.
	Retry time.Duration
	// Symbology is the symbology of every scan.
	Symbology scanner.Symbology
}

// Scanner keeps a Source's device open and hands its codes out. The zero
// Scanner is not usable; New returns one not started, whose device calls
// fail with scanner.ErrNotConnected until Start.
type Scanner struct {
	q   queue.Queue
	log hclog.Logger
	now func() time.Time

	mu      sync.Mutex
	started bool
	name    string
	stop    chan struct{} // closed to stop the loop
	done    chan struct{} // closed when the loop has ended
	online  bool
	lastErr error  // why the device is offline
	note    string // the note of the device open
	mon     base.Monitor
}

// New returns a Scanner that logs to log and times its scans with now. It
// does no I/O and starts no goroutine.
func New(log hclog.Logger, now func() time.Time) *Scanner {
	s := &Scanner{log: log, now: now}
	s.mon.Set(s.healthLocked())
	return s
}

// changedLocked tells the Scanner's watchers its health; s.mu is held.
func (s *Scanner) changedLocked() { s.mon.Set(s.healthLocked()) }

// Start stops the device loop under way, if any, disables the decoder
// (dropping the codes kept) and starts a loop over src. ReadCode calls
// waiting keep waiting.
func (s *Scanner) Start(src Source) {
	s.Close()
	s.q.Disable()
	stop, done := make(chan struct{}), make(chan struct{})
	s.mu.Lock()
	s.started, s.name, s.stop, s.done = true, src.Name, stop, done
	s.online, s.lastErr, s.note = false, errors.New("not opened yet"), ""
	s.changedLocked()
	s.mu.Unlock()
	go s.loop(src, stop, done)
}

// Close stops the device loop and closes the device; the Scanner stays
// configured, offline. It waits for the loop to end.
func (s *Scanner) Close() {
	s.mu.Lock()
	stop, done := s.stop, s.done
	s.stop, s.done = nil, nil
	if s.started {
		s.online, s.lastErr = false, errors.New("closed")
		s.changedLocked()
	}
	s.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

func (s *Scanner) loop(src Source, stop, done chan struct{}) {
	defer close(done)
	var lastLogged string
	for {
		rc, note, err := src.Open()
		if err != nil {
			err = fmt.Errorf("opening %s: %w", src.Name, err)
			s.offline(err)
			if err.Error() != lastLogged { // once per cause, not once per retry
				s.log.Warn("scanner offline", "device", src.Name, "error", err.Error())
				lastLogged = err.Error()
			}
		} else {
			lastLogged = ""
			s.mu.Lock()
			s.online, s.lastErr, s.note = true, nil, note
			s.changedLocked()
			s.mu.Unlock()
			s.log.Info("scanner connected", "device", src.Name)
			if note != "" {
				s.log.Warn(note, "device", src.Name)
			}
			closed := make(chan struct{})
			go func() { // a Close ends the read under way
				select {
				case <-stop:
					_ = rc.Close()
				case <-closed:
				}
			}()
			err = src.Decode(rc, func(code string) {
				s.q.Put(scanner.Scan{Code: code, Symbology: src.Symbology, At: s.now()})
			}, func(reason string) {
				s.log.Warn("bad read dropped", "device", src.Name, "reason", reason)
				s.mon.Report("bad read", reason)
			})
			close(closed)
			_ = rc.Close()
			select {
			case <-stop:
				return
			default:
			}
			if err == nil || errors.Is(err, io.EOF) {
				err = errors.New("the device closed")
			}
			err = fmt.Errorf("reading %s: %w", src.Name, err)
			s.offline(err)
			s.log.Warn("scanner offline", "device", src.Name, "error", err.Error())
		}
		t := time.NewTimer(src.Retry)
		select {
		case <-stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (s *Scanner) offline(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.online, s.lastErr, s.note = false, err, ""
	s.changedLocked()
}

// Health is idle while the device is open (its note, if any, as the
// detail) and offline otherwise, with why.
func (s *Scanner) Health() base.Health { return s.mon.Current() }

// Watch implements base.Watcher: the device's health at once and at every
// change, and an error event for every bad read.
func (s *Scanner) Watch(ctx context.Context, send func(base.Event) error) error {
	return s.mon.Watch(ctx, send)
}

func (s *Scanner) healthLocked() base.Health {
	switch {
	case !s.started:
		return base.Health{State: base.StateOffline, Detail: scanner.ErrNotConnected.Error() + ": not configured"}
	case !s.online:
		return base.Health{State: base.StateOffline, Detail: fmt.Sprintf("%s: %v", scanner.ErrNotConnected, s.lastErr)}
	}
	return base.Health{State: base.StateIdle, Detail: s.note}
}

// begin fails a device call before Start, or when ctx has ended.
func (s *Scanner) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return fmt.Errorf("%w: not configured", scanner.ErrNotConnected)
	}
	return nil
}

// Enable implements scanner.Scanner. It succeeds while the device is
// offline: the codes it reads once back are handed out.
func (s *Scanner) Enable(ctx context.Context) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	s.q.Enable()
	return nil
}

// Disable implements scanner.Scanner.
func (s *Scanner) Disable(ctx context.Context) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	s.q.Disable()
	return nil
}

// ReadCode implements scanner.Scanner: it enables the decoder and takes
// the oldest code kept or waits for the next one, also while the device is
// offline, until ctx ends.
func (s *Scanner) ReadCode(ctx context.Context) (scanner.Scan, error) {
	if err := s.begin(ctx); err != nil {
		return scanner.Scan{}, err
	}
	s.q.Enable()
	return s.q.Take(ctx)
}

// Waiting returns how many ReadCode calls wait; tests use it.
func (s *Scanner) Waiting() int { return s.q.Waiting() }
