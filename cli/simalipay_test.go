package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/channels/alipay"
)

func TestSimAlipayPrintsItsAddressesAndKeys(t *testing.T) {
	var out, errOut syncBuffer
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- NewApp(strings.NewReader(""), &out, &errOut).RunContext(ctx, []string{"posrt", "sim", "alipay", "--key-dir", dir})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "merchant public key: ") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("posrt sim alipay: %v (%s)", err, errOut.String())
	}
	for _, want := range []string{"alipay: http://127.0.0.1:", "/gateway.do\n", "admin: http://127.0.0.1:", "ledger: (in memory)", "app_id: 2014072300007148",
		"alipay_public_key_file: " + filepath.Join(dir, "alipay_public_key.pem"), "private_key_file: " + filepath.Join(dir, "app_private_key.pem")} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	priv, err := os.ReadFile(filepath.Join(dir, "app_private_key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alipay.ParsePrivateKey(priv); err != nil {
		t.Errorf("the merchant key written: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "app_private_key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the merchant key file's mode: %v, %v", fi, err)
	}
}
