package cli

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestSimAcquirerPrintsItsAddresses(t *testing.T) {
	var out, errOut syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- NewApp(strings.NewReader(""), &out, &errOut).RunContext(ctx, []string{"posrt", "sim", "acquirer", "--ledger", t.TempDir() + "/ledger.jsonl"})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "tmk: ") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("posrt sim acquirer: %v (%s)", err, errOut.String())
	}
	for _, want := range []string{"acquirer: tcp://127.0.0.1:", "admin: http://127.0.0.1:", "ledger: ", "tmk: (the testcards test key)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestSimWeChatPrintsItsAddresses(t *testing.T) {
	var out, errOut syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- NewApp(strings.NewReader(""), &out, &errOut).RunContext(ctx, []string{"posrt", "sim", "wechat", "--ledger", t.TempDir() + "/ledger.jsonl"})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "key: ") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("posrt sim wechat: %v (%s)", err, errOut.String())
	}
	for _, want := range []string{"wechat: http://127.0.0.1:", "admin: http://127.0.0.1:", "ledger: ", "key: (the example key of WeChat's signing rule)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// posrt sim (no subcommand) runs every simulator on a data directory's
// keys and prints where each is; posrt sim ledger then reads their
// ledgers from the files.
func TestSimAllAndLedger(t *testing.T) {
	data := t.TempDir()
	var out, errOut syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- NewApp(strings.NewReader(""), &out, &errOut).RunContext(ctx, []string{"posrt", "sim", "--data-dir", data})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "app_id: ") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("posrt sim: %v (%s)", err, errOut.String())
	}
	for _, want := range []string{"host simulators for terminal 12345678 (merchant 898310048990001)",
		"acquirer: 127.0.0.1:", "wechat: http://127.0.0.1:", "alipay: http://127.0.0.1:", "/gateway.do",
		"admin: http://127.0.0.1:", "ledger: " + data + "/sim/acquirer-ledger.jsonl", "tmk_file: " + data + "/sim/acquirer-tmk",
		"key_file: " + data + "/sim/wechat-key", "private_key_file: " + data + "/sim/alipay-app-private.pem", "mch_id: 10000100"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	code, stdout, stderr := runApp(t, context.Background(), "sim", "ledger", "--data-dir", data)
	if code != 0 {
		t.Fatalf("sim ledger: exit %d, %s", code, stderr)
	}
	for _, want := range []string{"acquirer host ledger " + data + "/sim/acquirer-ledger.jsonl: 0 entries", "wechat host ledger", "alipay host ledger"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("sim ledger output lacks %q:\n%s", want, stdout)
		}
	}
	if code, _, stderr := runApp(t, context.Background(), "sim", "ledger", "--data-dir", data, "--kind", "paypal"); code == 0 || !strings.Contains(stderr, `no simulator "paypal"`) {
		t.Errorf("sim ledger --kind paypal: exit %d, %s", code, stderr)
	}
}
