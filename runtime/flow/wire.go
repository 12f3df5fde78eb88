package flow

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// The runtime and a flow worker talk over a pair of pipes in frames: a
// 4-byte big-endian length of the rest; a 4-byte length of the header,
// the header (one JSON message), and the payload (a call's arguments or
// a reply, JSON too, decoded once by whoever it is for). The
// runtime sends init (once), then run; the worker answers ready (once),
// then for each run any number of calls, each answered by a reply, and
// one result. The worker never decides anything the runtime does not ask
// for: a call is a method of one of the Host's modules, served by the runtime as it would serve
// a flow in its own process.

// maxFrame bounds a frame either way: a flow's documents and results are
// a few kilobytes; a worker sending more is broken and is killed.
const maxFrame = 4 << 20

// Frame types.
const (
	frameInit   = "init"
	frameReady  = "ready"
	frameRun    = "run"
	frameCall   = "call"
	frameReply  = "reply"
	frameResult = "result"
	// frameFatal is the worker's last word before it exits on its own
	// (its memory limit exceeded).
	frameFatal = "fatal"
)

// frame is one message; which fields are set depends on Type.
type frame struct {
	Type string `json:"type"`

	// init
	Sources     map[string]string `json:"sources,omitempty"`
	TimeoutMS   int64             `json:"timeout_ms,omitempty"`
	MemoryLimit int64             `json:"memory_limit,omitempty"`

	// run: Caps are the modules the run's host has
	Flow  string         `json:"flow,omitempty"`
	Input map[string]any `json:"input,omitempty"`
	Caps  []string       `json:"caps,omitempty"`

	// call and reply; Payload is the call's arguments or the reply
	ID      int64  `json:"id,omitempty"`
	Method  string `json:"method,omitempty"`
	Payload []byte `json:"-"`

	// result
	Output map[string]any `json:"output,omitempty"`

	// reply, result, fatal: the failure, if any
	Err *Error `json:"err,omitempty"`
	// Expected marks an Err the flow returned (nil, {code, message})
	// rather than one raised.
	Expected bool `json:"expected,omitempty"`
}

// conn reads and writes frames; writes are serialised (a worker's
// watchdog may write its fatal frame while a run writes a call).
type conn struct {
	r  io.Reader
	mu sync.Mutex
	w  io.Writer
}

func (c *conn) write(f frame) error {
	h, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encoding a %s frame: %w", f.Type, err)
	}
	size := 4 + len(h) + len(f.Payload)
	if size > maxFrame {
		return fmt.Errorf("a %s frame of %d bytes is over the %d a frame may hold", f.Type, size, maxFrame)
	}
	b := make([]byte, 8, 4+size)
	binary.BigEndian.PutUint32(b, uint32(size))
	binary.BigEndian.PutUint32(b[4:], uint32(len(h)))
	b = append(append(b, h...), f.Payload...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.w.Write(b); err != nil {
		return fmt.Errorf("writing a %s frame: %w", f.Type, err)
	}
	return nil
}

// errFrameTooLarge is a frame over maxFrame.
var errFrameTooLarge = errors.New("frame over the size limit")

func (c *conn) read() (frame, error) {
	var n [4]byte
	if _, err := io.ReadFull(c.r, n[:]); err != nil {
		return frame{}, err
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > maxFrame {
		return frame{}, fmt.Errorf("%w: %d bytes", errFrameTooLarge, size)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(c.r, b); err != nil {
		return frame{}, fmt.Errorf("reading a frame: %w", err)
	}
	if size < 4 {
		return frame{}, errors.New("a frame without its header length")
	}
	hlen := binary.BigEndian.Uint32(b)
	if hlen > size-4 {
		return frame{}, fmt.Errorf("a frame's header of %d bytes in a frame of %d", hlen, size)
	}
	var f frame
	if err := json.Unmarshal(b[4:4+hlen], &f); err != nil {
		return frame{}, fmt.Errorf("decoding a frame: %w", err)
	}
	if rest := b[4+hlen:]; len(rest) > 0 {
		f.Payload = rest
	}
	return f, nil
}

// wholeNumbers turns the float64 of a decoded JSON number that is whole
// into int64, through maps and lists: what the flow returned reaches the
// runtime as it would from an Engine in its own process (fromLua).
func wholeNumbers(v any) any {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = wholeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = wholeNumbers(e)
		}
	}
	return v
}
