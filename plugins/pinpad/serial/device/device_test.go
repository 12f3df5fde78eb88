package device

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"
)

// host is the driver's end of a line to the simulator, read by hand.
type host struct {
	t  *testing.T
	c  net.Conn
	in chan byte
}

func serve(t *testing.T, cfg Config) (*Device, *host) {
	t.Helper()
	dev := New(cfg)
	a, b := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = dev.Serve(ctx, a) }()
	h := &host{t: t, c: b, in: make(chan byte, 1024)}
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := b.Read(buf)
			for _, x := range buf[:n] {
				h.in <- x
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { cancel(); _ = b.Close(); <-done })
	return dev, h
}

func (h *host) send(b []byte) {
	h.t.Helper()
	if _, err := h.c.Write(b); err != nil && err != io.ErrClosedPipe {
		h.t.Fatal(err)
	}
}

func (h *host) expect(what string, want []byte) {
	h.t.Helper()
	var got []byte
	timeout := time.After(3 * time.Second)
	for len(got) < len(want) {
		select {
		case b := <-h.in:
			got = append(got, b)
		case <-timeout:
			h.t.Fatalf("%s: got % X, want % X", what, got, want)
		}
	}
	if !bytes.Equal(got, want) {
		h.t.Fatalf("%s: got % X, want % X", what, got, want)
	}
}

// Frames written by hand (see the README): display "HI" and its OK response.
var (
	displayHI = []byte{0x02, 0x00, 0x06, 0x10, 0x02, 0x00, 0x02, 0x48, 0x49, 0x03, 0x14}
	displayOK = []byte{0x02, 0x00, 0x05, 0x90, 0x01, 0x00, 0x01, 0x00, 0x03, 0x96}
)

func TestGarbledCommandIsNAKedAndTheResendObeyed(t *testing.T) {
	dev, h := serve(t, Config{})
	garbled := bytes.Clone(displayHI)
	garbled[len(garbled)-1] ^= 0x01 // bad LRC
	h.send(garbled)
	h.expect("NAK of the garbled command", []byte{0x15})
	if got := dev.Displayed(); got != nil {
		t.Fatalf("a garbled display command was obeyed: %q", got)
	}
	h.send(displayHI)
	h.expect("ACK, then the response", append([]byte{0x06}, displayOK...))
	h.send([]byte{0x06})
	if got := dev.Displayed(); len(got) != 1 || got[0] != "HI" {
		t.Fatalf("Displayed = %q, want [HI]", got)
	}
}

func TestUnacknowledgedResponseIsSentThreeTimes(t *testing.T) {
	_, h := serve(t, Config{AckTimeout: 50 * time.Millisecond})
	h.send(displayHI)
	h.expect("ACK and three tries of the response", append(append(append([]byte{0x06}, displayOK...), displayOK...), displayOK...))
	select {
	case b := <-h.in:
		t.Fatalf("a fourth try: %#02x", b)
	case <-time.After(200 * time.Millisecond):
	}
}
