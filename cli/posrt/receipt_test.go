package main

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// posrt receipt preview, as a merchant runs it: the receipt library's QR
// sale receipt in Chinese on stdout, and its image.
func TestReceiptPreviewCommand(t *testing.T) {
	bin := posrtBinary(t)
	path := filepath.Join(t.TempDir(), "qr.png")
	cmd := exec.Command(bin, "receipt", "preview", "--kind", "qr", "--reprint", "--png", path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("posrt receipt preview: %v, stderr %q", err, stderr.String())
	}
	for _, want := range []string{"          扫码支付凭证\n", "DUPLICATE 重打印", "THANK YOU 谢谢惠顾", "[QR] P"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("no %q in:\n%s", want, stdout.String())
		}
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if cfg, err := png.DecodeConfig(fh); err != nil || cfg.Width != 384 {
		t.Errorf("the PNG: %+v, %v; want 384 dots wide", cfg, err)
	}
}
