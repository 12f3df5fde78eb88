package escpostest

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/posrt/posrt/plugins/printer"
)

// rw feeds the simulator a fixed stream and collects its answers.
type rw struct {
	io.Reader
	out bytes.Buffer
}

func (r *rw) Write(p []byte) (int, error) { return r.out.Write(p) }

func serve(t *testing.T, s *Simulator, stream string) []byte {
	t.Helper()
	c := &rw{Reader: strings.NewReader(stream)}
	if err := s.Serve(c); err != nil {
		t.Fatal(err)
	}
	return c.out.Bytes()
}

func TestUnknownCommandsAreErrors(t *testing.T) {
	for _, stream := range []string{
		"\x1b@\x1bZ",                   // ESC Z: not a command the simulator knows
		"\x1b@\x1d(k\x03\x001\x99\x00", // GS ( k fn=153
		"\x1b@\x07",                    // BEL
		"\x1b@\xc9\xcc\n",              // GB18030 outside Chinese mode
		"\x1b@\x1d(k\x03\x001Q0",       // print a QR code with no data stored
		"\x1b@\x1dv0\x00\x01",          // GS v 0 cut short
	} {
		s := New()
		serve(t, s, stream)
		if len(s.Errors()) == 0 {
			t.Errorf("%q: no error recorded", stream)
		}
	}
}

// The simulator's DLE EOT answers follow the Epson tables.
func TestStatusAnswers(t *testing.T) {
	s := New()
	s.SetConditions(printer.ConditionCoverOpen, printer.ConditionPaperNearEnd)
	got := serve(t, s, "\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04\x1dr\x01")
	// n=1 offline (bit 3), n=2 cover open (bit 2), n=3 no error, n=4 near
	// end (bits 2-3); then GS r 1 is held while the cover is open.
	if want := []byte{0x1A, 0x16, 0x12, 0x1E}; !bytes.Equal(got, want) {
		t.Errorf("answers = % X, want % X", got, want)
	}
	if s.Held() != 1 {
		t.Errorf("held %d commands, want GS r 1", s.Held())
	}
	s.SetConditions(printer.ConditionOffline)
	if got := serve(t, s, "\x10\x04\x01"); len(got) != 0 {
		t.Errorf("offline answered % X", got)
	}
}
