package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/channels/unionpayqr"
)

func TestSimUnionPayQRPrintsItsAddressesAndFiles(t *testing.T) {
	var out, errOut syncBuffer
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- NewApp(strings.NewReader(""), &out, &errOut).RunContext(ctx, []string{"posrt", "sim", "unionpay-qr", "--key-dir", dir})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "root_cert_file: ") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("posrt sim unionpay-qr: %v (%s)", err, errOut.String())
	}
	for _, want := range []string{"unionpay-qr: http://127.0.0.1:", "admin: http://127.0.0.1:", "ledger: (in memory)", "mer_id: 777290058110097",
		"root_cert_file: " + filepath.Join(dir, "unionpay_root.pem"), "sign_cert_file: " + filepath.Join(dir, "merchant_sign_cert.pem"),
		"sign_key_file: " + filepath.Join(dir, "merchant_sign_key.pem")} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	key, err := os.ReadFile(filepath.Join(dir, "merchant_sign_key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unionpayqr.ParsePrivateKey(key); err != nil {
		t.Errorf("the merchant key written: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "merchant_sign_key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the merchant key file's mode: %v, %v", fi, err)
	}
	root, err := os.ReadFile(filepath.Join(dir, "unionpay_root.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := unionpayqr.ParseCertificates(root); err != nil || !c[0].IsCA {
		t.Errorf("the root written: %v, %v", c, err)
	}
}
