package wire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Tries is how many times Link.Send sends a frame before it gives up.
const Tries = 3

// ErrNoAnswer is a frame NAKed or left unanswered Tries times.
var ErrNoAnswer = errors.New("frame not acknowledged")

// Link is one end of the line: it sends frames and waits for their ACK,
// and acknowledges the frames it receives (ACK when intact, NAK when
// damaged) and queues them for Receive. A reading goroutine runs until the
// line fails or Close. Send and Receive are safe for concurrent use.
type Link struct {
	w          io.Writer
	ackTimeout time.Duration
	sendMu     sync.Mutex // one Send at a time
	writeMu    sync.Mutex
	acks       chan bool // true ACK, false NAK
	frames     chan Frame
	done       chan struct{}
	closer     io.Closer
	err        error // why the reading stopped, set before done closes
	bad        func(error)
}

// NewLink starts a Link over rw. ackTimeout is how long Send waits for
// each ACK; bad, when not nil, is told of each damaged frame received.
// Close closes rw when it is an io.Closer.
func NewLink(rw io.ReadWriter, ackTimeout time.Duration, bad func(error)) *Link {
	l := &Link{w: rw, ackTimeout: ackTimeout, acks: make(chan bool, 16), frames: make(chan Frame, 16), done: make(chan struct{}), bad: bad}
	if c, ok := rw.(io.Closer); ok {
		l.closer = c
	}
	go l.read(NewReader(rw))
	return l
}

func (l *Link) read(r *Reader) {
	defer close(l.done)
	for {
		ev, err := r.Next()
		if err != nil {
			l.err = err
			return
		}
		switch ev.Kind {
		case EventACK, EventNAK:
			select {
			case l.acks <- ev.Kind == EventACK:
			default: // nobody waits for that many
			}
		case EventBad:
			if l.bad != nil {
				l.bad(ev.Err)
			}
			if err := l.write([]byte{NAK}); err != nil {
				l.err = err
				return
			}
		case EventFrame:
			if err := l.write([]byte{ACK}); err != nil {
				l.err = err
				return
			}
			select {
			case l.frames <- ev.Frame:
			case <-time.After(time.Second):
				// Nobody receives: the frame is dropped, as a device
				// buffer overrun would.
			}
		}
	}
}

func (l *Link) write(b []byte) error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	_, err := l.w.Write(b)
	return err
}

// Send sends f and waits for its ACK; a NAK or no answer within the ACK
// timeout sends it again, up to Tries times in all, then Send fails with
// ErrNoAnswer.
func (l *Link) Send(ctx context.Context, f Frame) error {
	raw, err := Encode(f)
	if err != nil {
		return err
	}
	return l.SendRaw(ctx, raw)
}

// SendRaw is Send of a frame already encoded.
func (l *Link) SendRaw(ctx context.Context, raw []byte) error {
	l.sendMu.Lock()
	defer l.sendMu.Unlock()
	var why string
	for try := 1; try <= Tries; try++ {
		// An ACK or NAK arriving late belongs to a try given up on.
		for len(l.acks) > 0 {
			<-l.acks
		}
		if err := l.write(raw); err != nil {
			return fmt.Errorf("writing a frame: %w", err)
		}
		t := time.NewTimer(l.ackTimeout)
		select {
		case ok := <-l.acks:
			t.Stop()
			if ok {
				return nil
			}
			why = "NAK"
		case <-t.C:
			why = "no answer"
		case <-l.done:
			t.Stop()
			return fmt.Errorf("sending a frame: %w", l.readErr())
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	return fmt.Errorf("%w: %s after %d tries", ErrNoAnswer, why, Tries)
}

// Receive returns the next intact frame received.
func (l *Link) Receive(ctx context.Context) (Frame, error) {
	select {
	case f := <-l.frames:
		return f, nil
	case <-ctx.Done():
		return Frame{}, ctx.Err()
	case <-l.done:
		select {
		case f := <-l.frames:
			return f, nil
		default:
		}
		return Frame{}, fmt.Errorf("receiving a frame: %w", l.readErr())
	}
}

// Done is closed when the reading stops.
func (l *Link) Done() <-chan struct{} { return l.done }

func (l *Link) readErr() error {
	if l.err == nil {
		return io.EOF
	}
	return l.err
}

// Close closes the line; the reading stops.
func (l *Link) Close() error {
	if l.closer == nil {
		return nil
	}
	return l.closer.Close()
}
