package escpos_test

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/plugins/printer/escpos"
	"github.com/posrt/posrt/plugins/printer/escpos/escpostest"
)

// pty opens a pseudo-terminal pair in raw mode and returns its master,
// which plays the printer's end, and the path of its slave, the "device"
// the driver opens.
func pty(t *testing.T) (*os.File, string) {
	t.Helper()
	// Non-blocking, so that the master is in Go's poller and closing it
	// ends the simulator's read.
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	m := os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { _ = m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlocking the pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("naming the pty: %v", err)
	}
	path := fmt.Sprintf("/dev/pts/%d", n)
	s, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() }) // kept open so its raw settings stay
	tio, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	// cfmakeraw
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	tio.Cflag &^= unix.CSIZE | unix.PARENB
	tio.Cflag |= unix.CS8
	if err := unix.IoctlSetTermios(int(s.Fd()), unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	return m, path
}

// The driver prints and reads the status through a device file and
// through a serial line (go.bug.st/serial), each a pty whose other end
// the simulator serves.
func TestDeviceAndSerialTransports(t *testing.T) {
	for _, key := range []string{"device", "serial"} {
		t.Run(key, func(t *testing.T) {
			m, path := pty(t)
			sim := escpostest.New()
			done := make(chan struct{})
			go func() { defer close(done); _ = sim.Serve(m) }()
			t.Cleanup(func() { _ = m.Close(); <-done })
			d := escpos.New()
			cfg := map[string]string{key: path, "status_timeout": "500ms"}
			if key == "serial" {
				cfg["baud"] = "115200"
			}
			ctx := ctxT(t)
			if err := d.Configure(ctx, printer.APIVersion1, cfg); err != nil {
				t.Fatal(err)
			}
			sim.SetConditions(printer.ConditionPaperNearEnd)
			if st, err := d.Status(ctx); err != nil || !st.Has(printer.ConditionPaperNearEnd) || len(st.Conditions) != 1 {
				t.Fatalf("Status = %v, %v; want paper_near_end", st, err)
			}
			job := printer.Job{ID: "p", Document: printer.Document{Lines: []printer.Line{{Text: "持卡人存根", Bold: true}}, Cut: true}}
			if err := d.Print(ctx, job); err != nil {
				t.Fatalf("Print: %v", err)
			}
			jobs := sim.Jobs()
			if len(jobs) != 1 || len(jobs[0].Document.Lines) != 1 || jobs[0].Document.Lines[0].Text != "持卡人存根" || !jobs[0].Document.Cut {
				t.Errorf("printed %+v", jobs)
			}
			noErrors(t, sim)
		})
	}
}
