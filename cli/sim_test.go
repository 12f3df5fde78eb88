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
