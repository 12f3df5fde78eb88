package render

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"github.com/posrt/posrt/plugins/printer"
)

// testFont loads the installed Noto CJK font.
func testFont(t *testing.T) *Font {
	t.Helper()
	f, err := LoadFont("")
	if err != nil {
		t.Fatalf("the tests need Debian's %s: %v", FontPackage, err)
	}
	return f
}

func drawDoc(t *testing.T, f *Font, doc printer.Document) *image.Paletted {
	t.Helper()
	img, err := Image(doc, Options{Font: f})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// ink counts the black dots of img inside r.
func ink(img *image.Paletted, r image.Rectangle) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.ColorIndexAt(x, y) == 1 {
				n++
			}
		}
	}
	return n
}

// inkBounds is the smallest rectangle holding every black dot of img.
func inkBounds(img *image.Paletted) image.Rectangle {
	var r image.Rectangle
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if img.ColorIndexAt(x, y) == 1 {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

func TestPNGIsA58mmReceipt(t *testing.T) {
	doc := printer.Document{Cut: true, Lines: []printer.Line{
		{Text: "POSRT 商户", Align: printer.AlignCenter, Size: printer.SizeDouble, Bold: true},
		{Text: "POS 签购单", Align: printer.AlignCenter},
		{QR: "P10000001000001000123", Align: printer.AlignCenter},
	}}
	var b bytes.Buffer
	if err := PNG(&b, doc, Options{Font: testFont(t)}); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatalf("decoding the PNG: %v", err)
	}
	wantH := (2*GlyphDots + LineGap) + (GlyphDots + LineGap) + (21+2*QRQuietModules)*DefaultQRModuleSize + CutDots
	if img.Bounds().Dx() != Dots || img.Bounds().Dy() != wantH {
		t.Errorf("image is %v, want %d×%d", img.Bounds(), Dots, wantH)
	}
	// Black on white only, as a thermal head prints.
	for y := 0; y < img.Bounds().Dy(); y++ {
		for x := 0; x < img.Bounds().Dx(); x++ {
			if g := color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y; g != 0 && g != 0xFF {
				t.Fatalf("dot (%d, %d) is grey %d", x, y, g)
			}
		}
	}
}

// The QR code drawn is go-qrcode's symbol at level M for the content,
// module for module, aligned as the line asks.
func TestPNGQRCode(t *testing.T) {
	f := testFont(t)
	const content = "P10000001000001000123"
	bits, err := QRBitmap(content)
	if err != nil {
		t.Fatal(err)
	}
	// 'P' and 20 digits in an alphanumeric and a numeric segment: 100 bits,
	// which version 1 (21 modules) holds at level M.
	const n = 21
	if len(bits) != n {
		t.Fatalf("symbol of %d modules, want version 1 (%d)", len(bits), n)
	}
	if level, ok := formatLevel(bits); !ok || level != 0b00 {
		t.Fatalf("the symbol's format information says error level %02b (valid %v), want M (00)", level, ok)
	}
	for _, tc := range []struct {
		align  printer.Align
		module int
		left   int
	}{
		{printer.AlignCenter, 0, (Dots - n*DefaultQRModuleSize) / 2},
		{printer.AlignLeft, 4, 0},
		{printer.AlignRight, 3, Dots - n*3},
		{printer.AlignLeft, 16, 0}, // 336 dots: fits
	} {
		img, err := Image(printer.Document{Lines: []printer.Line{{Text: "ORDER 订单", Align: tc.align}, {QR: content, Align: tc.align}}}, Options{Font: f, QRModuleSize: tc.module})
		if err != nil {
			t.Fatal(err)
		}
		module := tc.module
		switch {
		case module == 0:
			module = DefaultQRModuleSize
		case module*n > Dots:
			module = Dots / n
		}
		qr := img.SubImage(image.Rect(0, GlyphDots+LineGap, Dots, img.Bounds().Dy())).(*image.Paletted)
		box := inkBounds(qr)
		if box.Dx() != n*module || box.Dy() != n*module || box.Min.X != tc.left || box.Min.Y != GlyphDots+LineGap+QRQuietModules*module {
			t.Errorf("%s, module %d: the symbol is drawn at %v, want %d dots square at x %d after a %d-dot quiet zone", tc.align, tc.module, box, n*module, tc.left, QRQuietModules*module)
			continue
		}
		for my, line := range bits {
			for mx, dark := range line {
				x, y := box.Min.X+mx*module+module/2, box.Min.Y+my*module+module/2
				if got := img.ColorIndexAt(x, y) == 1; got != dark {
					t.Fatalf("%s: module (%d, %d) is %v, want %v", tc.align, mx, my, got, dark)
				}
			}
		}
	}
	// A symbol wider than the paper at 6 dots a module gets the largest
	// module that fits.
	long := strings.Repeat("a", 300)
	big, err := QRBitmap(long)
	if err != nil {
		t.Fatal(err)
	}
	if m := len(big); m*DefaultQRModuleSize <= Dots {
		t.Fatalf("a %d-module symbol fits at the default module size", m)
	} else if b := inkBounds(drawDoc(t, f, printer.Document{Lines: []printer.Line{{QR: long}}})); b.Dx() != m*(Dots/m) {
		t.Errorf("a %d-module symbol is %d dots wide, want %d", m, b.Dx(), m*(Dots/m))
	}
	// A model 2 symbol at level M holds at most 2331 bytes.
	if _, err := Image(printer.Document{Lines: []printer.Line{{QR: strings.Repeat("a", 2332)}}}, Options{Font: f}); err == nil {
		t.Error("a QR content too long for one symbol was drawn")
	}
}

// Chinese characters are drawn from the font: ink inside each one's
// 24-dot cell, and not the box drawn for a character the font lacks.
func TestPNGDrawsChinese(t *testing.T) {
	f := testFont(t)
	box := image.NewPaletted(image.Rect(0, 0, 2*CellDots, GlyphDots), palette)
	missingBox(box, 0, 2*CellDots)
	sameAsBox := func(img *image.Paletted, x int) bool {
		for y := 0; y < GlyphDots; y++ {
			for dx := 0; dx < 2*CellDots; dx++ {
				if img.ColorIndexAt(x+dx, y) != box.ColorIndexAt(dx, y) {
					return false
				}
			}
		}
		return true
	}
	// The detector works: a character no font has is drawn as the box.
	lacking := drawDoc(t, f, printer.Document{Lines: []printer.Line{{Text: "\U0003FFFD"}}})
	if runeWidth('\U0003FFFD') != 2 || !sameAsBox(lacking, 0) {
		t.Fatal("a character the font lacks is not drawn as the missing-character box")
	}
	text := "签购单撤销凭证退货谢谢惠顾重打印"
	img := drawDoc(t, f, printer.Document{Lines: []printer.Line{{Text: text}}})
	for i, r := range []rune(text) {
		cell := image.Rect(i*2*CellDots, 0, (i+1)*2*CellDots, GlyphDots)
		if n := ink(img, cell); n < 40 {
			t.Errorf("%c: %d dots of ink in its cell %v, want a drawn character", r, n, cell)
		}
		if sameAsBox(img, cell.Min.X) {
			t.Errorf("%c is drawn as the missing-character box", r)
		}
	}
	// The characters sit whole in the 24-dot row: nothing cut off at its
	// top or bottom edge.
	if top, bottom := ink(img, image.Rect(0, 0, Dots, 1)), ink(img, image.Rect(0, GlyphDots-1, Dots, GlyphDots)); top != 0 || bottom != 0 {
		t.Errorf("%d dots of ink on the row's top line and %d on its bottom one: characters cut off", top, bottom)
	}
	// Nothing outside the row's characters and its line.
	if n := ink(img, image.Rect(len([]rune(text))*2*CellDots, 0, Dots, img.Bounds().Dy())); n != 0 {
		t.Errorf("%d dots of ink right of the text", n)
	}
}

func TestPNGBoldSizeAlignment(t *testing.T) {
	f := testFont(t)
	one := func(l printer.Line) *image.Paletted { return drawDoc(t, f, printer.Document{Lines: []printer.Line{l}}) }
	const text = "RMB 12.34 消费"
	regular := one(printer.Line{Text: text})
	bold := one(printer.Line{Text: text, Bold: true})
	if r, b := ink(regular, regular.Bounds()), ink(bold, bold.Bounds()); b < r*5/4 {
		t.Errorf("bold has %d dots of ink, regular %d: want at least a quarter more", b, r)
	}
	reg := ink(regular, regular.Bounds())
	for _, tc := range []struct {
		size   printer.Size
		sx, sy int
	}{{printer.SizeDoubleWidth, 2, 1}, {printer.SizeDoubleHeight, 1, 2}, {printer.SizeDouble, 2, 2}} {
		img := one(printer.Line{Text: text, Size: tc.size})
		if n := ink(img, img.Bounds()); n != reg*tc.sx*tc.sy {
			t.Errorf("%s: %d dots of ink, want %d×%d times the %d of normal size", tc.size, n, tc.sx, tc.sy, reg)
		}
		rb, b := inkBounds(regular), inkBounds(img)
		if b.Dx() != rb.Dx()*tc.sx || b.Dy() != rb.Dy()*tc.sy || img.Bounds().Dy() != GlyphDots*tc.sy+LineGap {
			t.Errorf("%s: text %v in a %d-dot row, want %d×%d the normal %v", tc.size, b, img.Bounds().Dy(), tc.sx, tc.sy, rb)
		}
	}
	// 14 columns of text: 168 dots; aligned in the 384.
	w := textWidth(text) * CellDots
	for _, tc := range []struct {
		align printer.Align
		left  int
	}{{printer.AlignLeft, 0}, {printer.AlignCenter, (Dots - w) / 2}, {printer.AlignRight, Dots - w}} {
		img := one(printer.Line{Text: text, Align: tc.align})
		b := inkBounds(img)
		if b.Min.X < tc.left || b.Max.X > tc.left+w || b.Min.X > tc.left+3 || b.Max.X < tc.left+w-4 {
			t.Errorf("%s: ink from x %d to %d, want the text in %d to %d", tc.align, b.Min.X, b.Max.X, tc.left, tc.left+w)
		}
	}
}

func TestPNGCutsAndLogo(t *testing.T) {
	f := testFont(t)
	logo := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for y := range 20 {
		for x := range 40 {
			switch {
			case x < 30: // 30 columns black, 5 light grey, 5 transparent
				logo.Set(x, y, color.Black)
			case x < 35:
				logo.Set(x, y, color.Gray{Y: 0xC0})
			}
		}
	}
	doc := printer.Document{Cut: true, Lines: []printer.Line{{Text: "COPY 1"}, {Cut: true}, {Text: "COPY 2"}}}
	plain := drawDoc(t, f, doc)
	with, err := Image(doc, Options{Font: f, Logo: logo})
	if err != nil {
		t.Fatal(err)
	}
	if d := with.Bounds().Dy() - plain.Bounds().Dy(); d != 2*(20+LineGap) {
		t.Errorf("the logo adds %d dots of paper, want twice %d (one per copy)", d, 20+LineGap)
	}
	if d := ink(with, with.Bounds()) - ink(plain, plain.Bounds()); d != 2*30*20 {
		t.Errorf("the logo adds %d dots of ink, want twice 600", d)
	}
	if n := ink(with, image.Rect(172, 0, 202, 20)); n != 600 {
		t.Errorf("%d dots of the first logo at its centred place, want 600", n)
	}
	// A cut: a dashed line across the paper.
	y := GlyphDots + LineGap + CutDots/2
	if n := ink(plain, image.Rect(0, y, Dots, y+1)); n != Dots*2/3 {
		t.Errorf("the cut line has %d dots, want %d", n, Dots*2/3)
	}
	if _, err := Image(doc, Options{Font: f, Logo: image.NewRGBA(image.Rect(0, 0, Dots+1, 8))}); err == nil {
		t.Error("a logo wider than the paper was drawn")
	}
}

func TestPNGErrors(t *testing.T) {
	err := PNG(&bytes.Buffer{}, printer.Document{Lines: []printer.Line{{Text: "x"}}}, Options{FontPath: "/nonexistent/NotoSansCJK-Regular.ttc"})
	if err == nil || !strings.Contains(err.Error(), "apt-get install fonts-noto-cjk") || !strings.Contains(err.Error(), "/nonexistent/NotoSansCJK-Regular.ttc") {
		t.Errorf("PNG with a missing font: %v, want an error naming the font and the package to install", err)
	}
	if err := PNG(&bytes.Buffer{}, printer.Document{Lines: []printer.Line{{Text: "x", Size: "huge"}}}, Options{Font: testFont(t)}); err == nil {
		t.Error("PNG drew a line of an unknown size")
	}
	if _, err := LoadFont("png_test.go"); err == nil || !strings.Contains(err.Error(), "parsing the receipt font") {
		t.Errorf("LoadFont of a Go file: %v", err)
	}
	if f := testFont(t); f.Name() != "Noto Sans Mono CJK SC" {
		t.Errorf("the face taken from the collection is %q, want Noto Sans Mono CJK SC", f.Name())
	}
}

// formatLevel reads the error correction level of a QR symbol from its
// format information beside the top-left finder pattern (ISO/IEC 18004
// 7.9: 15 bits read as ZXing reads them, XOR 101010000010010, a BCH(15,5)
// code of generator 10100110111), and whether the bits are a valid
// codeword. L is 01, M 00, Q 11, H 10.
func formatLevel(bits [][]bool) (level int, ok bool) {
	v := 0
	bit := func(x, y int) {
		v <<= 1
		if bits[y][x] {
			v |= 1
		}
	}
	for x := 0; x <= 5; x++ {
		bit(x, 8)
	}
	bit(7, 8)
	bit(8, 8)
	bit(8, 7)
	for y := 5; y >= 0; y-- {
		bit(8, y)
	}
	v ^= 0b101010000010010
	data := v >> 10
	rem := data << 10
	for i := 14; i >= 10; i-- {
		if rem&(1<<i) != 0 {
			rem ^= 0b10100110111 << (i - 10)
		}
	}
	return data >> 3, v == data<<10|rem
}
