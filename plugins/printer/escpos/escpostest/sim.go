package escpostest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/plugins/printer/escpos"
)

// Job is what the simulator printed between two ESC @.
type Job struct {
	// Document holds the lines as printed: text lines with their
	// attributes (one per LF), QR codes (their payload and alignment) and
	// cut lines; Cut is set when the job ended with a cut.
	Document printer.Document
	QRs      []QR
	Logos    []escpos.Raster
	// Cuts counts the cuts, partial or full.
	Cuts int
}

// QR is one QR code as printed, with the settings in force.
type QR struct {
	Data   string
	Model  byte // 49 model 1, 50 model 2, 51 micro QR
	Module byte // dots
	Level  byte // 48 L, 49 M, 50 Q, 51 H
}

// Kick is one drawer kick pulse (ESC p).
type Kick struct {
	Pin     int // 2 or 5
	On, Off time.Duration
}

// Simulator is an ESC/POS receipt printer. New returns it ready, with no
// condition and the drawer switch reading high when open. It is safe for
// concurrent use.
type Simulator struct {
	mu        sync.Mutex
	conds     map[printer.Condition]bool
	after     int // lines until pending arise; 0: nothing pending
	pending   []printer.Condition
	openLow   bool
	jobs      []*Job
	cur       *Job
	kicks     []Kick
	errs      []error
	held      []func()
	lost      int
	answered  int
	st        state
	ln        net.Listener
	conns     map[io.Closer]bool
	wg        sync.WaitGroup
	lineBytes []byte
}

// state is what ESC @ resets.
type state struct {
	align   byte
	bold    bool
	size    byte
	chinese bool
	qr      QR
}

func initial() state { return state{qr: QR{Model: 50, Module: 3, Level: 48}} }

// New returns a ready simulator, not listening yet.
func New() *Simulator {
	return &Simulator{conds: map[printer.Condition]bool{}, conns: map[io.Closer]bool{}, st: initial()}
}

// Start returns a simulator listening on 127.0.0.1 and its address; it
// closes when t ends.
func Start(t testing.TB) (*Simulator, string) {
	t.Helper()
	s := New()
	addr, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatalf("starting the ESC/POS simulator: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, addr
}

// Listen accepts TCP connections on addr and serves each; it returns the
// address it listens on.
func (s *Simulator) Listen(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				_ = s.Serve(c)
				_ = c.Close()
			}()
		}
	}()
	return ln.Addr().String(), nil
}

// Close stops listening and closes the connections it serves.
func (s *Simulator) Close() error {
	s.mu.Lock()
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// SetConditions makes the simulator report exactly conds from now on. When
// none of them blocks, it prints what it held meanwhile.
func (s *Simulator) SetConditions(conds ...printer.Condition) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.after, s.pending = 0, nil
	s.setLocked(conds)
}

// SetConditionsAfterLines makes the simulator report exactly conds once it
// has printed n more text lines, as a roll running out mid-receipt.
func (s *Simulator) SetConditionsAfterLines(n int, conds ...printer.Condition) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.after, s.pending = n, slices.Clone(conds)
}

// SetDrawerOpenLow wires the drawer switch so that connector pin 3 reads
// low when the drawer is open (the default is high).
func (s *Simulator) SetDrawerOpenLow(low bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.openLow = low
}

func (s *Simulator) setLocked(conds []printer.Condition) {
	s.conds = map[printer.Condition]bool{}
	for _, c := range conds {
		s.conds[c] = true
	}
	for len(s.held) > 0 && !s.blockedLocked() {
		f := s.held[0]
		s.held = s.held[1:]
		f()
	}
}

func (s *Simulator) blockedLocked() bool {
	for c := range s.conds {
		if c.Blocking() {
			return true
		}
	}
	return false
}

// Jobs returns the jobs printed so far that put anything on paper, oldest
// first.
func (s *Simulator) Jobs() []Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	var jobs []Job
	for _, j := range s.jobs {
		if len(j.Document.Lines) == 0 && len(j.Logos) == 0 {
			continue
		}
		c := Job{QRs: slices.Clone(j.QRs), Logos: slices.Clone(j.Logos), Cuts: j.Cuts}
		c.Document.Lines = slices.Clone(j.Document.Lines)
		if n := len(c.Document.Lines); n > 0 && c.Document.Lines[n-1].Cut {
			c.Document.Lines, c.Document.Cut = c.Document.Lines[:n-1], true
		}
		jobs = append(jobs, c)
	}
	return jobs
}

// Receipts returns how many jobs put anything on paper.
func (s *Simulator) Receipts() int { return len(s.Jobs()) }

// Kicks returns the drawer kicks so far.
func (s *Simulator) Kicks() []Kick {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.kicks)
}

// Errors returns what the simulator could not parse or do: unknown
// commands, bad arguments, bytes it could not decode.
func (s *Simulator) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.errs)
}

// Held returns how many commands wait in the buffer for a blocking
// condition to clear; Lost how many were received offline and lost;
// Answered how many status requests it answered.
func (s *Simulator) Held() int     { s.mu.Lock(); defer s.mu.Unlock(); return len(s.held) }
func (s *Simulator) Lost() int     { s.mu.Lock(); defer s.mu.Unlock(); return s.lost }
func (s *Simulator) Answered() int { s.mu.Lock(); defer s.mu.Unlock(); return s.answered }

func (s *Simulator) errorf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, fmt.Errorf(format, args...))
}

// Serve reads and runs ESC/POS commands from rw until it ends, answering
// on rw.
func (s *Simulator) Serve(rw io.ReadWriter) error {
	if c, ok := rw.(io.Closer); ok {
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
	p := &parser{s: s, r: bufio.NewReader(rw), w: rw}
	for {
		err := p.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

type parser struct {
	s *Simulator
	r *bufio.Reader
	w io.Writer
}

// eofInside turns an end of stream inside a command into an error the
// simulator records.
var errTruncated = errors.New("stream ended inside a command")

func (p *parser) bytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(p.r, b); err != nil {
		return nil, errTruncated
	}
	return b, nil
}

// next parses one command or character and runs it, at once when it is a
// real-time command, otherwise in buffer order.
func (p *parser) next() error {
	c, err := p.r.ReadByte()
	if err != nil {
		return err
	}
	run, err := p.parse(c)
	if errors.Is(err, errTruncated) {
		p.s.errorf("stream ended inside the command starting 0x%02X", c)
		return io.EOF
	}
	if err != nil {
		return err
	}
	if run != nil {
		p.s.queue(run)
	}
	return nil
}

// queue runs f unless the printer is offline (f is lost) or blocked or
// already holding data (f waits in the buffer).
func (s *Simulator) queue(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.conds[printer.ConditionOffline]:
		s.lost++
	case s.blockedLocked() || len(s.held) > 0:
		s.held = append(s.held, f)
	default:
		f()
	}
}

// parse reads the rest of the command that starts with c and returns
// what it does, run with s.mu held. A real-time command is answered here
// and returns nil.
func (p *parser) parse(c byte) (func(), error) {
	s := p.s
	switch {
	case c == 0x0A:
		return s.printLine, nil
	case c == 0x0D:
		return func() {}, nil // CR: no line feed with auto line feed off
	case c == 0x10:
		return nil, p.parseDLE()
	case c == 0x1B:
		return p.parseESC()
	case c == 0x1C:
		return p.parseFS()
	case c == 0x1D:
		return p.parseGS()
	case c < 0x20 || c == 0x7F:
		s.errorf("unknown control code 0x%02X", c)
		return nil, nil
	case c < 0x80:
		return func() { s.lineBytes = append(s.lineBytes, c) }, nil
	}
	// A byte of 0x80 and up: in Chinese mode the lead byte of a GB18030
	// character of two or four bytes.
	ch := []byte{c}
	if c >= 0x81 && c <= 0xFE {
		b, err := p.bytes(1)
		if err != nil {
			return nil, err
		}
		ch = append(ch, b[0])
		if b[0] >= 0x30 && b[0] <= 0x39 {
			b, err := p.bytes(2)
			if err != nil {
				return nil, err
			}
			ch = append(ch, b...)
		}
	}
	return func() {
		if !s.st.chinese {
			s.errs = append(s.errs, fmt.Errorf("byte 0x%02X outside Chinese mode (FS &)", c))
			return
		}
		s.lineBytes = append(s.lineBytes, ch...)
	}, nil
}

// parseDLE answers DLE EOT n at once, from the current conditions; an
// offline printer answers nothing.
func (p *parser) parseDLE() error {
	s := p.s
	b, err := p.bytes(2)
	if err != nil {
		return err
	}
	if b[0] != 0x04 || b[1] < 1 || b[1] > 4 {
		s.errorf("unknown command DLE 0x%02X 0x%02X", b[0], b[1])
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conds[printer.ConditionOffline] {
		return nil
	}
	s.answered++
	_, err = p.w.Write([]byte{s.realTimeStatusLocked(b[1])})
	return err
}

// Status bits from the Epson tables of DLE EOT: bits 1 and 4 always set.
func (s *Simulator) realTimeStatusLocked(n byte) byte {
	has := func(c printer.Condition) bool { return s.conds[c] }
	out := has(printer.ConditionPaperOut)
	stopped := has(printer.ConditionCoverOpen) || out || has(printer.ConditionPaperJam) || has(printer.ConditionHeadOverheat)
	b := byte(0x12)
	switch n {
	case 1:
		if has(printer.ConditionDrawerOpen) != s.openLow { // pin 3 high
			b |= 0x04
		}
		if stopped {
			b |= 0x08 // offline
		}
	case 2:
		if has(printer.ConditionCoverOpen) {
			b |= 0x04
		}
		if out {
			b |= 0x20 // printing stopped by the paper end
		}
		if has(printer.ConditionPaperJam) || has(printer.ConditionHeadOverheat) {
			b |= 0x40 // error occurred
		}
	case 3:
		if has(printer.ConditionPaperJam) {
			b |= 0x04 // recoverable (mechanical) error
		}
		if has(printer.ConditionHeadOverheat) {
			b |= 0x40 // automatically recoverable error
		}
	case 4:
		if has(printer.ConditionPaperNearEnd) || out {
			b |= 0x0C // near-end sensor: no paper
		}
		if out {
			b |= 0x60 // end sensor: no paper
		}
	}
	return b
}

func (p *parser) parseESC() (func(), error) {
	s := p.s
	b, err := p.bytes(1)
	if err != nil {
		return nil, err
	}
	switch b[0] {
	case '@':
		return func() {
			s.lineBytes = nil
			s.st = initial()
			s.cur = &Job{}
			s.jobs = append(s.jobs, s.cur)
		}, nil
	case 'a':
		n, err := p.bytes(1)
		if err != nil {
			return nil, err
		}
		return func() {
			switch n[0] {
			case 0, 1, 2, '0', '1', '2':
				s.st.align = n[0] % '0'
			default:
				s.errs = append(s.errs, fmt.Errorf("ESC a %d: no such alignment", n[0]))
			}
		}, nil
	case 'E':
		n, err := p.bytes(1)
		if err != nil {
			return nil, err
		}
		return func() { s.st.bold = n[0]&1 == 1 }, nil
	case 'd':
		n, err := p.bytes(1)
		if err != nil {
			return nil, err
		}
		return func() {
			for range n[0] {
				s.printLine()
			}
		}, nil
	case 'p':
		a, err := p.bytes(3)
		if err != nil {
			return nil, err
		}
		return func() {
			pin := 2
			switch a[0] {
			case 0, '0':
			case 1, '1':
				pin = 5
			default:
				s.errs = append(s.errs, fmt.Errorf("ESC p %d: no such connector pin", a[0]))
				return
			}
			s.kicks = append(s.kicks, Kick{Pin: pin, On: time.Duration(a[1]) * 2 * time.Millisecond, Off: time.Duration(a[2]) * 2 * time.Millisecond})
		}, nil
	}
	s.errorf("unknown command ESC 0x%02X", b[0])
	return nil, nil
}

func (p *parser) parseFS() (func(), error) {
	s := p.s
	b, err := p.bytes(1)
	if err != nil {
		return nil, err
	}
	switch b[0] {
	case '&':
		return func() { s.st.chinese = true }, nil
	case '.':
		return func() { s.st.chinese = false }, nil
	}
	s.errorf("unknown command FS 0x%02X", b[0])
	return nil, nil
}

func (p *parser) parseGS() (func(), error) {
	s := p.s
	b, err := p.bytes(1)
	if err != nil {
		return nil, err
	}
	switch b[0] {
	case '!':
		n, err := p.bytes(1)
		if err != nil {
			return nil, err
		}
		return func() { s.st.size = n[0] }, nil
	case 'V':
		m, err := p.bytes(1)
		if err != nil {
			return nil, err
		}
		switch m[0] {
		case 0, 1, '0', '1':
		case 65, 66:
			if _, err := p.bytes(1); err != nil { // the feed before the cut
				return nil, err
			}
		default:
			s.errorf("GS V %d: no such cut", m[0])
			return nil, nil
		}
		return func() {
			if s.cur == nil {
				s.errs = append(s.errs, errors.New("GS V before ESC @"))
				return
			}
			s.cur.Cuts++
			s.cur.Document.Lines = append(s.cur.Document.Lines, printer.Line{Cut: true})
		}, nil
	case 'r':
		n, err := p.bytes(1)
		if err != nil {
			return nil, err
		}
		return func() {
			var a byte
			switch n[0] {
			case 1, '1': // paper sensor: bits 0-1 near end, 2-3 paper end
				if s.conds[printer.ConditionPaperNearEnd] || s.conds[printer.ConditionPaperOut] {
					a |= 0x03
				}
				if s.conds[printer.ConditionPaperOut] {
					a |= 0x0C
				}
			case 2, '2': // drawer kick connector pin 3 level in bit 0
				if s.conds[printer.ConditionDrawerOpen] != s.openLow {
					a |= 0x01
				}
			default:
				s.errs = append(s.errs, fmt.Errorf("GS r %d: no such status", n[0]))
				return
			}
			s.answered++
			_, _ = p.w.Write([]byte{a})
		}, nil
	case '(':
		return p.parseQR()
	case 'v':
		return p.parseRaster()
	}
	s.errorf("unknown command GS 0x%02X", b[0])
	return nil, nil
}

// parseQR reads GS ( k pL pH cn fn [parameters].
func (p *parser) parseQR() (func(), error) {
	s := p.s
	h, err := p.bytes(3)
	if err != nil {
		return nil, err
	}
	if h[0] != 'k' {
		s.errorf("unknown command GS ( 0x%02X", h[0])
		return nil, nil
	}
	n := int(h[1]) + int(h[2])<<8
	if n < 2 {
		s.errorf("GS ( k with %d parameter bytes", n)
		return nil, nil
	}
	a, err := p.bytes(n)
	if err != nil {
		return nil, err
	}
	cn, fn, args := a[0], a[1], a[2:]
	if cn != 49 {
		s.errorf("GS ( k cn=%d: only QR codes (49)", cn)
		return nil, nil
	}
	bad := func(want int) bool {
		if len(args) != want {
			s.errorf("GS ( k fn=%d with %d parameter bytes, want %d", fn, len(args), want)
			return true
		}
		return false
	}
	switch fn {
	case 65: // select the model
		if bad(2) {
			return nil, nil
		}
		return func() {
			if args[0] < 49 || args[0] > 51 || args[1] != 0 {
				s.errs = append(s.errs, fmt.Errorf("GS ( k fn=65: model %d %d", args[0], args[1]))
				return
			}
			s.st.qr.Model = args[0]
		}, nil
	case 67: // module size
		if bad(1) {
			return nil, nil
		}
		return func() {
			if args[0] < 1 || args[0] > 16 {
				s.errs = append(s.errs, fmt.Errorf("GS ( k fn=67: module size %d", args[0]))
				return
			}
			s.st.qr.Module = args[0]
		}, nil
	case 69: // error correction level
		if bad(1) {
			return nil, nil
		}
		return func() {
			if args[0] < 48 || args[0] > 51 {
				s.errs = append(s.errs, fmt.Errorf("GS ( k fn=69: level %d", args[0]))
				return
			}
			s.st.qr.Level = args[0]
		}, nil
	case 80: // store the data
		if len(args) < 1 || args[0] != 48 {
			s.errorf("GS ( k fn=80 without m=48")
			return nil, nil
		}
		data := string(args[1:])
		return func() { s.st.qr.Data = data }, nil
	case 81: // print the stored symbol
		if bad(1) || args[0] != 48 {
			return nil, nil
		}
		return func() {
			if s.cur == nil || s.st.qr.Data == "" {
				s.errs = append(s.errs, errors.New("GS ( k fn=81 with no data stored"))
				return
			}
			s.cur.QRs = append(s.cur.QRs, s.st.qr)
			s.cur.Document.Lines = append(s.cur.Document.Lines, printer.Line{QR: s.st.qr.Data, Align: aligns[s.st.align]})
		}, nil
	}
	s.errorf("GS ( k fn=%d: unknown function", fn)
	return nil, nil
}

// parseRaster reads GS v 0 m xL xH yL yH d1...dk.
func (p *parser) parseRaster() (func(), error) {
	s := p.s
	h, err := p.bytes(6)
	if err != nil {
		return nil, err
	}
	if h[0] != '0' {
		s.errorf("unknown command GS v 0x%02X", h[0])
		return nil, nil
	}
	x, y := int(h[2])+int(h[3])<<8, int(h[4])+int(h[5])<<8
	if h[1] > 3 && (h[1] < '0' || h[1] > '3') || x < 1 || x > 128 || y < 1 || y > 4095 {
		s.errorf("GS v 0: m=%d x=%d y=%d out of range", h[1], x, y)
		return nil, nil
	}
	bits, err := p.bytes(x * y)
	if err != nil {
		return nil, err
	}
	return func() {
		if s.cur == nil {
			s.errs = append(s.errs, errors.New("GS v 0 before ESC @"))
			return
		}
		s.cur.Logos = append(s.cur.Logos, escpos.Raster{Width: x * 8, Height: y, Bits: bits})
	}, nil
}

var aligns = map[byte]printer.Align{0: printer.AlignLeft, 1: printer.AlignCenter, 2: printer.AlignRight}

var sizes = map[byte]printer.Size{0x00: printer.SizeNormal, 0x10: printer.SizeDoubleWidth, 0x01: printer.SizeDoubleHeight, 0x11: printer.SizeDouble}

// printLine prints the line buffer with the attributes in force (LF).
func (s *Simulator) printLine() {
	text := string(s.lineBytes)
	if s.st.chinese {
		t, err := simplifiedchinese.GB18030.NewDecoder().Bytes(s.lineBytes)
		if err != nil {
			s.errs = append(s.errs, fmt.Errorf("decoding a line from GB18030: %w", err))
		}
		text = string(t)
	}
	s.lineBytes = nil
	if s.cur == nil {
		s.errs = append(s.errs, errors.New("text before ESC @"))
		return
	}
	size, ok := sizes[s.st.size]
	if !ok {
		size = printer.Size(fmt.Sprintf("width %d height %d", s.st.size>>4+1, s.st.size&7+1))
	}
	s.cur.Document.Lines = append(s.cur.Document.Lines, printer.Line{Text: text, Align: aligns[s.st.align], Size: size, Bold: s.st.bold})
	if s.after > 0 {
		s.after--
		if s.after == 0 {
			conds := s.pending
			s.pending = nil
			s.conds = map[printer.Condition]bool{}
			for _, c := range conds {
				s.conds[c] = true
			}
		}
	}
}
