package escpos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"go.bug.st/serial"
)

// DefaultPort is the raw TCP port of network receipt printers.
const DefaultPort = "9100"

// DefaultBaud is the serial line speed when the configuration names none.
const DefaultBaud = 19200

// errNoReply: the printer sent nothing within the read timeout.
var errNoReply = errors.New("no reply from the printer")

// Transport says how the driver reaches the printer: exactly one of
// Address (raw TCP, host:port), Device (a character device such as
// /dev/usb/lp0) and Serial (a serial line at Baud) is set.
type Transport struct {
	Address string
	Device  string
	Serial  string
	Baud    int
}

func (t Transport) String() string {
	switch {
	case t.Address != "":
		return "tcp " + t.Address
	case t.Device != "":
		return "device " + t.Device
	default:
		return fmt.Sprintf("serial %s at %d baud", t.Serial, t.Baud)
	}
}

// link is an open connection to the printer. A goroutine reads what the
// printer sends into a channel, so that every transport reads with a
// timeout, whether or not the operating system can put a deadline on it.
type link struct {
	w        io.Writer
	c        io.Closer
	deadline func(time.Time) error // sets the write deadline; nil when the transport has none
	in       chan byte
	mu       sync.Mutex
	err      error // why the reader stopped, once in is closed
}

// open connects to the printer; ctx bounds the connect.
func (t Transport) open(ctx context.Context) (*link, error) {
	switch {
	case t.Address != "":
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", t.Address)
		if err != nil {
			return nil, err
		}
		return newLink(c, c, c.SetWriteDeadline), nil
	case t.Device != "":
		f, err := os.OpenFile(t.Device, os.O_RDWR, 0)
		if err != nil {
			return nil, err
		}
		return newLink(f, f, f.SetWriteDeadline), nil
	case t.Serial != "":
		p, err := serial.Open(t.Serial, &serial.Mode{BaudRate: t.Baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
		if err != nil {
			return nil, err
		}
		return newLink(serialReader{p}, p, nil), nil
	}
	return nil, errors.New("no transport configured")
}

// serialReader reads a serial port, whose Read returns 0, nil when its
// read timeout (none here) expires, as an io.Reader.
type serialReader struct{ serial.Port }

func newLink(rw io.ReadWriter, c io.Closer, deadline func(time.Time) error) *link {
	l := &link{w: rw, c: c, deadline: deadline, in: make(chan byte, 512)}
	go l.read(rw)
	return l
}

func (l *link) read(r io.Reader) {
	buf := make([]byte, 256)
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			l.in <- b
		}
		if err != nil {
			l.mu.Lock()
			l.err = err
			l.mu.Unlock()
			close(l.in)
			return
		}
	}
}

// write sends p, within ctx's deadline where the transport allows one.
func (l *link) write(ctx context.Context, p []byte) error {
	if l.deadline != nil {
		dl, _ := ctx.Deadline()
		if err := l.deadline(dl); err != nil && !errors.Is(err, os.ErrNoDeadline) {
			return err
		}
	}
	_, err := l.w.Write(p)
	return err
}

// readByte returns the next byte the printer sends, errNoReply when none
// comes within timeout, or why the connection ended.
func (l *link) readByte(ctx context.Context, timeout time.Duration) (byte, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case b, ok := <-l.in:
		if !ok {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.err == nil || errors.Is(l.err, io.EOF) {
				return 0, errors.New("the printer closed the connection")
			}
			return 0, l.err
		}
		return b, nil
	case <-t.C:
		return 0, errNoReply
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// drain discards what the printer has sent and nobody read: late answers
// of an earlier call.
func (l *link) drain() {
	for {
		select {
		case _, ok := <-l.in:
			if !ok {
				return
			}
		default:
			return
		}
	}
}

func (l *link) close() error {
	err := l.c.Close()
	go func() { // let the reader end if it is blocked on a full channel
		for range l.in {
		}
	}()
	return err
}
