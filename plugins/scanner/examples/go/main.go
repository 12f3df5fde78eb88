package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/scanner"
)

func main() { scanner.Serve(&netScanner{}) }

// maxPending is how many codes read while nobody waits are kept.
const maxPending = 16

// netScanner reads the codes a network scanner sends, one a line. The
// embedded Monitor holds its health and gives it Health and Watch.
type netScanner struct {
	base.Monitor

	mu      sync.Mutex
	on      bool                // the decoder is on: codes read are kept
	pending []scanner.Scan      // read, not yet handed out, oldest first
	waiting []chan scanner.Scan // ReadCode calls waiting, longest first
	stop    context.CancelFunc  // ends the connection of the last Configure
}

var _ scanner.Scanner = (*netScanner)(nil)

func (s *netScanner) Info(context.Context) (base.Info, error) {
	return base.Info{Kind: base.KindScanner, Name: "netscanner-go", Version: "0.1.0", APIVersions: scanner.APIVersions}, nil
}

// Configure checks everything before it changes anything, then
// (re)connects to the scanner at config key address.
func (s *netScanner) Configure(_ context.Context, api string, config map[string]string) error {
	if !slices.Contains(scanner.APIVersions, api) {
		return fmt.Errorf("scanner API version %q is not spoken by netscanner-go, which speaks %v", api, scanner.APIVersions)
	}
	var addr string
	err := base.EachConfigKey(config, "netscanner-go", []string{"address"}, func(k base.ConfigKey) error {
		if _, _, err := net.SplitHostPort(k.Value); err != nil {
			return k.Bad("the scanner's host:port")
		}
		addr = k.Value
		return nil
	})
	if err != nil {
		return err
	}
	if addr == "" {
		return errors.New("config key address: missing: the scanner's host:port")
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	if s.stop != nil {
		s.stop()
	}
	s.on, s.pending, s.stop = false, nil, cancel
	s.mu.Unlock()
	connected := make(chan struct{})
	go s.read(ctx, addr, connected)
	select { // so that Health says at once whether the scanner is there
	case <-connected:
	case <-time.After(3 * time.Second):
	}
	return nil
}

// read connects to addr and puts every line read, connecting again after
// a second whenever the connection is lost, until ctx ends. It closes
// tried after the first attempt.
func (s *netScanner) read(ctx context.Context, addr string, tried chan struct{}) {
	once := sync.OnceFunc(func() { close(tried) })
	for ctx.Err() == nil {
		c, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "tcp", addr)
		if err != nil {
			s.Set(base.Health{State: base.StateOffline, Detail: fmt.Sprintf("connecting to %s: %v", addr, err)})
			once()
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		s.Set(base.Health{State: base.StateIdle, Detail: "connected to " + addr})
		once()
		stop := context.AfterFunc(ctx, func() { c.Close() })
		lines := bufio.NewScanner(c)
		for lines.Scan() {
			if code := strings.TrimSuffix(lines.Text(), "\r"); code != "" {
				s.put(scanner.Scan{Code: code, Symbology: "qr", At: time.Now()})
			}
		}
		stop()
		c.Close()
		if ctx.Err() == nil {
			s.Set(base.Health{State: base.StateOffline, Detail: "the scanner closed the connection"})
			s.Report(scanner.ErrNotConnected.Error(), "the scanner at "+addr+" closed the connection")
		}
	}
}

// put hands sc to the longest waiting ReadCode, or keeps it; a code read
// while the decoder is off is dropped.
func (s *netScanner) put(sc scanner.Scan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case !s.on:
	case len(s.waiting) > 0:
		w := s.waiting[0]
		s.waiting = s.waiting[1:]
		w <- sc // buffered: never blocks
	default:
		s.pending = append(s.pending, sc)
		if n := len(s.pending); n > maxPending {
			s.pending = s.pending[n-maxPending:]
		}
	}
}

func (s *netScanner) connected() error {
	if h := s.Current(); h.State == base.StateOffline {
		return fmt.Errorf("%w: %s", scanner.ErrNotConnected, h.Detail)
	}
	return nil
}

func (s *netScanner) Enable(context.Context) error {
	if err := s.connected(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.on = true
	return nil
}

func (s *netScanner) Disable(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.on, s.pending = false, nil
	return nil
}

// ReadCode turns the decoder on and returns the oldest code kept, or waits
// for the next one. A call that gives up leaves the queue of waiters, so
// it takes no code with it.
func (s *netScanner) ReadCode(ctx context.Context) (scanner.Scan, error) {
	if err := s.connected(); err != nil {
		return scanner.Scan{}, err
	}
	s.mu.Lock()
	s.on = true
	if len(s.pending) > 0 {
		sc := s.pending[0]
		s.pending = s.pending[1:]
		s.mu.Unlock()
		return sc, nil
	}
	w := make(chan scanner.Scan, 1)
	s.waiting = append(s.waiting, w)
	s.mu.Unlock()
	select {
	case sc := <-w:
		return sc, nil
	case <-ctx.Done():
		s.mu.Lock()
		defer s.mu.Unlock()
		if i := slices.Index(s.waiting, w); i >= 0 {
			s.waiting = slices.Delete(s.waiting, i, i+1)
			return scanner.Scan{}, ctx.Err()
		}
		return <-w, nil // handed a code just as ctx ended
	}
}
