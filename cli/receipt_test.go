package cli

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posrt/posrt/plugins/printer/render"
)

func TestReceiptPreview(t *testing.T) {
	for _, tc := range []struct {
		kind   ReceiptKind
		title  string
		pad    int // (32 columns - its width) / 2
		copies int
		want   []string
	}{
		{ReceiptCard, "POS 签购单", 11, 2, []string{"MERCHANT COPY", "CARDHOLDER COPY", "CARD NO     622202******0128", "AMOUNT  RMB 123.45", "[QR] P10000001000001000123"}},
		{ReceiptQR, "扫码支付凭证", 10, 1, []string{"PAID WITH   微信支付 WECHAT PAY", "AMOUNT  RMB 8.80", "[QR] P10000001000001000121"}},
		{ReceiptVoid, "撤销凭证", 12, 1, []string{"TRANS TYPE  VOID", "ORIG TRACE  000120", "AMOUNT  RMB -20.00"}},
		{ReceiptRefund, "退货凭证", 12, 1, []string{"TRANS TYPE  REFUND", "PAID WITH   微信支付 WECHAT PAY", "AMOUNT  RMB -5.00"}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			for _, reprint := range []bool{false, true} {
				args := []string{"receipt", "preview", "--kind", string(tc.kind)}
				if reprint {
					args = append(args, "--reprint")
				}
				code, stdout, stderr := runApp(t, context.Background(), args...)
				if code != 0 {
					t.Fatalf("%v: exit %d, stderr %q", args, code, stderr)
				}
				// The title centred under the merchant's name, on each copy.
				title := strings.Repeat(" ", tc.pad) + tc.title + "\n"
				if n := strings.Count(stdout, "\n"+title); n != tc.copies {
					t.Errorf("%v: the title %q centred %d times, want %d:\n%s", args, title, n, tc.copies, stdout)
				}
				if n := strings.Count(stdout, "DUPLICATE 重打印"); (n == tc.copies) != reprint || (n != 0) != reprint {
					t.Errorf("%v: DUPLICATE %d times:\n%s", args, n, stdout)
				}
				for _, w := range tc.want {
					if !strings.Contains(stdout, w) {
						t.Errorf("%v: no %q in\n%s", args, w, stdout)
					}
				}
				if n := strings.Count(stdout, strings.Repeat("-", render.Columns)+"\n"); n != tc.copies {
					t.Errorf("%v: %d cuts, want %d", args, n, tc.copies)
				}
			}
		})
	}
}

func TestReceiptPreviewPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "receipt.png")
	code, stdout, stderr := runApp(t, context.Background(), "receipt", "preview", "--kind", "qr", "--png", path)
	if code != 0 || !strings.Contains(stdout, "扫码支付凭证") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	if img.Bounds().Dx() != render.Dots || img.Bounds().Dy() < 20*(render.GlyphDots+render.LineGap) {
		t.Errorf("the PNG is %v, want %d dots wide and a receipt long", img.Bounds(), render.Dots)
	}

	missing := filepath.Join(t.TempDir(), "none.ttc")
	code, _, stderr = runApp(t, context.Background(), "receipt", "preview", "--png", filepath.Join(t.TempDir(), "r.png"), "--font", missing)
	if code != 1 || !strings.Contains(stderr, "apt-get install fonts-noto-cjk") || !strings.Contains(stderr, missing) {
		t.Errorf("a missing font: exit %d, stderr %q", code, stderr)
	}
}

func TestReceiptPreviewMerchantLibrary(t *testing.T) {
	src, err := os.ReadFile("../flows/receipts.lua")
	if err != nil {
		t.Fatal(err)
	}
	mine := strings.Replace(string(src), `"THANK YOU 谢谢惠顾"`, `"欢迎再次光临 SEE YOU"`, 1)
	if mine == string(src) {
		t.Fatal("receipts.lua has no THANK YOU footer to change")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "receipts.lua"), []byte(mine), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runApp(t, context.Background(), "receipt", "preview", "--kind", "void", "--flows-dir", dir)
	if code != 0 || !strings.Contains(stdout, "欢迎再次光临 SEE YOU") || strings.Contains(stdout, "THANK YOU") {
		t.Fatalf("the merchant's receipts.lua: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "receipts.lua"), []byte("local M = {}\nfunction M.document() return {}, 0 end\nreturn M\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runApp(t, context.Background(), "receipt", "preview", "--flows-dir", dir)
	if code != 1 || !strings.Contains(stderr, "prints nothing for a sale") {
		t.Errorf("a library printing nothing: exit %d, stderr %q", code, stderr)
	}
	for _, args := range [][]string{{"--kind", "settle"}, {"--flows-dir", filepath.Join(dir, "missing")}} {
		code, _, stderr := runApp(t, context.Background(), append([]string{"receipt", "preview"}, args...)...)
		if code == 0 || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}
