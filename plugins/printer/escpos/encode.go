package escpos

import (
	"bytes"
	"fmt"
	"image"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/posrt/posrt/plugins/printer"
)

// ESC/POS control codes.
const (
	LF  = 0x0A
	DLE = 0x10
	EOT = 0x04
	ESC = 0x1B
	FS  = 0x1C
	GS  = 0x1D
)

// Encoder limits and defaults.
const (
	// DefaultQRModuleSize is the width in dots of one QR module when the
	// configuration names none: 6 dots make a 25 mm symbol of a 60-byte
	// URL on a 203 dpi head.
	DefaultQRModuleSize = 6
	// MaxQRPayload is the most bytes a model 2 QR code at error level M
	// holds (version 40, byte mode).
	MaxQRPayload = 2331
	// MaxRasterWidth is the widest logo in dots, that of an 80 mm printer.
	MaxRasterWidth = 576
	// MaxRasterHeight bounds a logo's height in dots (GS v 0 allows 2303).
	MaxRasterHeight = 2303
)

// Drawer kick pulse the encoder sends (ESC p m t1 t2): 25 × 2 ms on,
// 250 × 2 ms off, the values drawer makers ask for.
const (
	KickOnTime  = 25
	KickOffTime = 250
)

// Raster is a monochrome image as GS v 0 prints it: rows of
// (Width+7)/8 bytes, most significant bit leftmost, a set bit a black dot.
type Raster struct {
	Width, Height int
	Bits          []byte
}

// RowBytes is the number of bytes one row of r takes.
func (r Raster) RowBytes() int { return (r.Width + 7) / 8 }

// RasterFromImage turns img into a Raster: a pixel prints black when it is
// mostly opaque and darker than mid-grey.
func RasterFromImage(img image.Image) (Raster, error) {
	b := img.Bounds()
	if b.Dx() < 1 || b.Dy() < 1 || b.Dx() > MaxRasterWidth || b.Dy() > MaxRasterHeight {
		return Raster{}, fmt.Errorf("logo of %d×%d dots: want 1 to %d wide and 1 to %d high", b.Dx(), b.Dy(), MaxRasterWidth, MaxRasterHeight)
	}
	r := Raster{Width: b.Dx(), Height: b.Dy()}
	rb := r.RowBytes()
	r.Bits = make([]byte, rb*r.Height)
	for y := 0; y < r.Height; y++ {
		for x := 0; x < r.Width; x++ {
			cr, cg, cb, ca := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			lum := (299*cr + 587*cg + 114*cb) / 1000 // 16-bit, alpha-premultiplied
			if ca >= 0x8000 && lum < ca/2 {
				r.Bits[y*rb+x/8] |= 0x80 >> (x % 8)
			}
		}
	}
	return r, nil
}

// Options are the encoder's settings that come from the driver's
// configuration rather than from the document.
type Options struct {
	// Logo, when set, is printed centred at the top of each copy: at the
	// start of the job and after each cut line followed by more lines.
	Logo *Raster
	// QRModuleSize is the module width in dots, 1 to 16; 0 means
	// DefaultQRModuleSize.
	QRModuleSize int
	// CutFeed is n of GS V 66 n: how far past the cutting position the
	// paper is fed before the partial cut, in vertical motion units.
	CutFeed byte
}

// Encode returns doc as the ESC/POS byte stream of one job: ESC @, FS &
// (Chinese mode, GB18030 text), then per line ESC a (alignment), ESC E
// (bold), GS ! (size) and the text with LF; a QR code as GS ( k model 2,
// module size, error level M, store and print; a cut line or the final
// cut as GS V 66 n (feed and partial cut). Control characters in a text
// (a tab, an escape) are printed as spaces, so that a receipt's text can
// never be taken for a command. It fails on an alignment or size the
// contract does not know and on a QR payload too long for one symbol.
func Encode(doc printer.Document, opts Options) ([]byte, error) {
	module := opts.QRModuleSize
	if module == 0 {
		module = DefaultQRModuleSize
	}
	if module < 1 || module > 16 {
		return nil, fmt.Errorf("qr module size %d: want 1 to 16 dots", module)
	}
	var b bytes.Buffer
	b.Write([]byte{ESC, '@', FS, '&'})
	if opts.Logo != nil {
		writeRaster(&b, *opts.Logo)
	}
	enc := encoding.ReplaceUnsupported(simplifiedchinese.GB18030.NewEncoder())
	for i, l := range doc.Lines {
		align, err := alignByte(l.Align)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		size, err := sizeByte(l.Size)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		switch {
		case l.Cut:
			writeCut(&b, opts.CutFeed)
			if opts.Logo != nil && i < len(doc.Lines)-1 {
				writeRaster(&b, *opts.Logo)
			}
		case l.QR != "":
			if len(l.QR) > MaxQRPayload {
				return nil, fmt.Errorf("line %d: qr payload of %d bytes: a symbol holds at most %d", i+1, len(l.QR), MaxQRPayload)
			}
			b.Write([]byte{ESC, 'a', align})
			writeQR(&b, l.QR, byte(module))
		default:
			bold := byte(0)
			if l.Bold {
				bold = 1
			}
			b.Write([]byte{ESC, 'a', align, ESC, 'E', bold, GS, '!', size})
			for _, row := range strings.Split(l.Text, "\n") {
				text, err := enc.String(printable(row))
				if err != nil {
					return nil, fmt.Errorf("line %d: encoding the text in GB18030: %w", i+1, err)
				}
				b.WriteString(text)
				b.WriteByte(LF)
			}
		}
	}
	if doc.Cut {
		writeCut(&b, opts.CutFeed)
	}
	return b.Bytes(), nil
}

// printable replaces C0 control characters and DEL with spaces.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7F {
			return ' '
		}
		return r
	}, s)
}

func alignByte(a printer.Align) (byte, error) {
	switch a {
	case "", printer.AlignLeft:
		return 0, nil
	case printer.AlignCenter:
		return 1, nil
	case printer.AlignRight:
		return 2, nil
	}
	return 0, fmt.Errorf("unknown alignment %q", string(a))
}

// sizeByte is n of GS ! n: bits 4-6 the width magnification less one,
// bits 0-2 the height's.
func sizeByte(s printer.Size) (byte, error) {
	switch s {
	case "", printer.SizeNormal:
		return 0x00, nil
	case printer.SizeDoubleWidth:
		return 0x10, nil
	case printer.SizeDoubleHeight:
		return 0x01, nil
	case printer.SizeDouble:
		return 0x11, nil
	}
	return 0, fmt.Errorf("unknown size %q", string(s))
}

func writeCut(b *bytes.Buffer, feed byte) { b.Write([]byte{GS, 'V', 66, feed}) }

// writeQR writes GS ( k functions 165 (model 2), 167 (module size), 169
// (error level M), 180 (store the data) and 181 (print the symbol).
func writeQR(b *bytes.Buffer, data string, module byte) {
	b.Write([]byte{GS, '(', 'k', 4, 0, 49, 65, 50, 0})
	b.Write([]byte{GS, '(', 'k', 3, 0, 49, 67, module})
	b.Write([]byte{GS, '(', 'k', 3, 0, 49, 69, 49})
	n := len(data) + 3
	b.Write([]byte{GS, '(', 'k', byte(n), byte(n >> 8), 49, 80, 48})
	b.WriteString(data)
	b.Write([]byte{GS, '(', 'k', 3, 0, 49, 81, 48})
}

// writeRaster writes the logo centred with GS v 0 in normal density.
func writeRaster(b *bytes.Buffer, r Raster) {
	x, y := r.RowBytes(), r.Height
	b.Write([]byte{ESC, 'a', 1, GS, 'v', '0', 0, byte(x), byte(x >> 8), byte(y), byte(y >> 8)})
	b.Write(r.Bits)
}

// DrawerKick returns ESC p m t1 t2 pulsing drawer kick connector pin 5
// when pin is 5, and pin 2 otherwise.
func DrawerKick(pin int) []byte {
	m := byte(0)
	if pin == 5 {
		m = 1
	}
	return []byte{ESC, 'p', m, KickOnTime, KickOffTime}
}
