package escpos

import (
	"bytes"
	"encoding/hex"
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/posrt/posrt/plugins/printer"
)

// hx reads hex bytes written with spaces, as the command pages of the
// Epson ESC/POS Command Reference print them.
func hx(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// The expected bytes are written by hand from the Epson ESC/POS Command
// Reference pages named in each comment, not produced by the encoder.
// GB18030 codes are from the GB 18030 code chart (商 C9CC, 户 BBA7, 存
// B4E6, 根 B8F9; U+1F600 the four bytes 94 39 FC 36).
func TestEncodeByteExact(t *testing.T) {
	const (
		init    = "1B 40"                      // ESC @  Initialize printer
		chinese = "1C 26"                      // FS &   Select Kanji character mode
		cut     = "1D 56 42 00"                // GS V   Function B, m=66: feed and partial cut, n=0
		left    = "1B 61 00"                   // ESC a  Select justification, n=0 left
		center  = "1B 61 01"                   // ESC a  n=1 centering
		right   = "1B 61 02"                   // ESC a  n=2 right
		boldOff = "1B 45 00"                   // ESC E  Turn emphasized mode on/off, n=0 off
		boldOn  = "1B 45 01"                   // ESC E  n=1 on
		normal  = "1D 21 00"                   // GS !   Select character size, n=0 normal
		dWidth  = "1D 21 10"                   // GS !   bits 4-6 = 1: width ×2
		dHeight = "1D 21 01"                   // GS !   bits 0-2 = 1: height ×2
		double  = "1D 21 11"                   // GS !   width ×2, height ×2
		qrModel = "1D 28 6B 04 00 31 41 32 00" // GS ( k <Function 165> model 2
		qrSize6 = "1D 28 6B 03 00 31 43 06"    // GS ( k <Function 167> module size 6
		qrLevel = "1D 28 6B 03 00 31 45 31"    // GS ( k <Function 169> error correction level M
		qrPrint = "1D 28 6B 03 00 31 51 30"    // GS ( k <Function 181> print the symbol data
	)
	for _, tc := range []struct {
		name string
		doc  printer.Document
		opts Options
		want string
	}{
		{"empty document", printer.Document{}, Options{}, init + chinese},
		{"cut alone", printer.Document{Cut: true}, Options{}, init + chinese + cut},
		{"cut feed", printer.Document{Cut: true}, Options{CutFeed: 3}, init + chinese + "1D 56 42 03"},
		{"plain line", printer.Document{Lines: []printer.Line{{Text: "AB"}}}, Options{},
			init + chinese + left + boldOff + normal + "41 42 0A"},
		{"centred bold double", printer.Document{Lines: []printer.Line{{Text: "POSRT", Align: printer.AlignCenter, Size: printer.SizeDouble, Bold: true}}}, Options{},
			init + chinese + center + boldOn + double + "50 4F 53 52 54 0A"},
		{"right double width", printer.Document{Lines: []printer.Line{{Text: "1", Align: printer.AlignRight, Size: printer.SizeDoubleWidth}}}, Options{},
			init + chinese + right + boldOff + dWidth + "31 0A"},
		{"Chinese in GB18030, double height", printer.Document{Lines: []printer.Line{{Text: "商户存根", Size: printer.SizeDoubleHeight}}}, Options{},
			init + chinese + left + boldOff + dHeight + "C9 CC BB A7 B4 E6 B8 F9 0A"},
		{"four-byte GB18030", printer.Document{Lines: []printer.Line{{Text: "\U0001F600"}}}, Options{},
			init + chinese + left + boldOff + normal + "94 39 FC 36 0A"},
		{"two rows in one line", printer.Document{Lines: []printer.Line{{Text: "A\nB"}}}, Options{},
			init + chinese + left + boldOff + normal + "41 0A 42 0A"},
		{"control characters print as spaces", printer.Document{Lines: []printer.Line{{Text: "A\x1bp\x00\tB"}}}, Options{},
			init + chinese + left + boldOff + normal + "41 20 70 20 20 42 0A"},
		// GS ( k <Function 180>: pL pH = k+3 = 6, cn=49 fn=80 m=48, then the data.
		{"QR code", printer.Document{Lines: []printer.Line{{QR: "abc", Align: printer.AlignCenter}}, Cut: true}, Options{},
			init + chinese + center + qrModel + qrSize6 + qrLevel + "1D 28 6B 06 00 31 50 30 61 62 63" + qrPrint + cut},
		{"QR module size", printer.Document{Lines: []printer.Line{{QR: "1"}}}, Options{QRModuleSize: 3},
			init + chinese + left + qrModel + "1D 28 6B 03 00 31 43 03" + qrLevel + "1D 28 6B 04 00 31 50 30 31" + qrPrint},
		{"cut line between copies", printer.Document{Lines: []printer.Line{{Text: "A"}, {Cut: true}, {Text: "B"}}, Cut: true}, Options{},
			init + chinese + left + boldOff + normal + "41 0A" + cut + left + boldOff + normal + "42 0A" + cut},
		// GS v 0 m xL xH yL yH: m=0 normal, x=1 byte across, y=2 dots down.
		{"logo on each copy", printer.Document{Lines: []printer.Line{{Text: "A"}, {Cut: true}, {Text: "B"}}, Cut: true},
			Options{Logo: &Raster{Width: 8, Height: 2, Bits: []byte{0xF0, 0x0F}}},
			init + chinese + center + "1D 76 30 00 01 00 02 00 F0 0F" + left + boldOff + normal + "41 0A" + cut +
				center + "1D 76 30 00 01 00 02 00 F0 0F" + left + boldOff + normal + "42 0A" + cut},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Encode(tc.doc, tc.opts)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if want := hx(t, tc.want); !bytes.Equal(got, want) {
				t.Errorf("Encode =\n% X\nwant\n% X", got, want)
			}
		})
	}
}

func TestEncodeLongQR(t *testing.T) {
	// 300 bytes: pL pH = 303 = 0x012F, low byte first.
	data := strings.Repeat("x", 300)
	got, err := Encode(printer.Document{Lines: []printer.Line{{QR: data}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := append(hx(t, "1D 28 6B 2F 01 31 50 30"), data...); !bytes.Contains(got, want) {
		t.Errorf("Encode lacks GS ( k pL=2F pH=01 fn=80 and the data:\n% X", got)
	}
}

func TestEncodeRefuses(t *testing.T) {
	for name, doc := range map[string]printer.Document{
		"unknown alignment": {Lines: []printer.Line{{Text: "x", Align: "justify"}}},
		"unknown size":      {Lines: []printer.Line{{Text: "x", Size: "huge"}}},
		"QR too long":       {Lines: []printer.Line{{QR: strings.Repeat("9", MaxQRPayload+1)}}},
	} {
		if _, err := Encode(doc, Options{}); err == nil {
			t.Errorf("%s: Encode succeeded", name)
		}
	}
	if _, err := Encode(printer.Document{}, Options{QRModuleSize: 17}); err == nil {
		t.Error("Encode accepted a QR module size of 17")
	}
}

// DrawerKick is ESC p m t1 t2 (the "ESC p Generate pulse" page): m=0 pin
// 2, m=1 pin 5, t1=25 (50 ms on), t2=250 (500 ms off).
func TestDrawerKick(t *testing.T) {
	if got, want := DrawerKick(2), hx(t, "1B 70 00 19 FA"); !bytes.Equal(got, want) {
		t.Errorf("DrawerKick(2) = % X, want % X", got, want)
	}
	if got, want := DrawerKick(5), hx(t, "1B 70 01 19 FA"); !bytes.Equal(got, want) {
		t.Errorf("DrawerKick(5) = % X, want % X", got, want)
	}
}

// Status requests are DLE EOT n (the "DLE EOT Transmit real-time status"
// page) and GS r 1 ("GS r Transmit status").
func TestStatusRequests(t *testing.T) {
	for i, tc := range []struct{ got, want []byte }{
		{StatusPrinter, hx(t, "10 04 01")}, {StatusOffline, hx(t, "10 04 02")},
		{StatusError, hx(t, "10 04 03")}, {StatusPaper, hx(t, "10 04 04")}, {PaperSensor, hx(t, "1D 72 01")},
	} {
		if !bytes.Equal(tc.got, tc.want) {
			t.Errorf("request %d = % X, want % X", i, tc.got, tc.want)
		}
	}
}

func TestRasterFromImage(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 10, 2))
	for x := range 10 {
		img.Set(x, 0, color.White)
		img.Set(x, 1, color.Transparent)
	}
	img.Set(0, 0, color.Black)
	img.Set(9, 0, color.Gray{0x40})
	img.Set(1, 1, color.NRGBA{0, 0, 0, 0x10}) // nearly transparent: white
	r, err := RasterFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	// 10 dots: 2 bytes a row; dots 0 and 9 black in row 0.
	if r.Width != 10 || r.Height != 2 || !bytes.Equal(r.Bits, []byte{0x80, 0x40, 0, 0}) {
		t.Errorf("RasterFromImage = %+v", r)
	}
	if _, err := RasterFromImage(image.NewGray(image.Rect(0, 0, MaxRasterWidth+1, 1))); err == nil {
		t.Error("RasterFromImage accepted a logo wider than an 80 mm printer")
	}
}
