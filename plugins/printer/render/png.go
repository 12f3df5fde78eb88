package render

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"

	"github.com/skip2/go-qrcode"
	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"github.com/posrt/posrt/plugins/printer"
)

// The geometry of a 58 mm thermal receipt printer at 203 dpi (8 dots a
// millimetre), in dots.
const (
	// Dots is the width of the printed area: 48 mm.
	Dots = 384
	// CellDots is the width of one column, a narrow character of the
	// printer's 12×24 font; a wide character takes two.
	CellDots = 12
	// GlyphDots is the height of a character at normal size.
	GlyphDots = 24
	// LineGap is the blank paper under each row of text: 24 dots of
	// character and 6 of gap make ESC/POS's default 30-dot line.
	LineGap = 6
	// DefaultQRModuleSize is a QR module's width when Options name none,
	// the ESC/POS driver's default.
	DefaultQRModuleSize = 6
	// QRQuietModules is the white margin above and below a QR code, in
	// modules (the quiet zone of ISO/IEC 18004).
	QRQuietModules = 4
	// CutDots is the height of a cut: a dashed line with paper either
	// side.
	CutDots = 24
)

// Options set what the document does not: the font, a logo and the QR
// module size.
type Options struct {
	// Font is a font loaded once with LoadFont; when nil, PNG loads the
	// one at FontPath.
	Font *Font
	// FontPath is the OpenType font or collection to draw text with when
	// Font is nil; empty means DefaultFontPath (Debian's fonts-noto-cjk).
	FontPath string
	// Logo, when set, is printed centred at the top of each copy, as the
	// ESC/POS driver prints its logo: at the start of the document and
	// after each cut line followed by more lines. A pixel prints black
	// when it is mostly opaque and darker than mid-grey. It may be at
	// most Dots wide.
	Logo image.Image
	// QRModuleSize is the width of a QR module in dots, 1 to 16; 0 means
	// DefaultQRModuleSize. A code that would be wider than the paper is
	// drawn with the largest module that fits.
	QRModuleSize int
}

var (
	white = color.Gray{Y: 0xFF}
	black = color.Gray{Y: 0x00}
	// palette makes the PNG a 1-bit image, as a thermal head prints.
	palette = color.Palette{white, black}
)

// PNG writes doc to w as a PNG image Dots wide, in black and white, as a
// 58 mm thermal printer prints it: text in rows of Columns columns (a wide
// character two), aligned; bold struck twice a dot apart; double width and
// double height magnifying each dot; a QR code of the line's QR content at
// error level M, aligned, with a quiet zone above and below; the logo of
// Options at the top of each copy; a dashed line for each cut. It fails on
// a document Validate refuses, a QR content too long for one symbol, a
// logo wider than the paper, and a font that cannot be read (the error
// names the package to install).
func PNG(w io.Writer, doc printer.Document, opt Options) error {
	img, err := Image(doc, opt)
	if err != nil {
		return err
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("encoding the receipt image: %w", err)
	}
	return nil
}

// Image returns doc drawn as PNG draws it: black (palette index 1) on
// white (index 0).
func Image(doc printer.Document, opt Options) (*image.Paletted, error) {
	if err := Validate(doc); err != nil {
		return nil, err
	}
	module := opt.QRModuleSize
	if module == 0 {
		module = DefaultQRModuleSize
	}
	if module < 1 || module > 16 {
		return nil, fmt.Errorf("qr module size %d: want 1 to 16 dots", module)
	}
	var logo *image.Paletted
	if opt.Logo != nil {
		var err error
		if logo, err = threshold(opt.Logo); err != nil {
			return nil, err
		}
	}
	fnt := opt.Font
	if fnt == nil {
		var err error
		if fnt, err = LoadFont(opt.FontPath); err != nil {
			return nil, err
		}
	}
	face, err := opentype.NewFace(fnt.f, &opentype.FaceOptions{Size: GlyphDots, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return nil, fmt.Errorf("sizing the receipt font: %w", err)
	}
	defer face.Close()
	d := &drawer{font: fnt, face: face}

	// Lay the document out as blocks, each a height and how to draw it at
	// a y, then draw them on paper as high as their sum.
	var blocks []block
	if logo != nil {
		blocks = append(blocks, logoBlock(logo))
	}
	for i, l := range doc.Lines {
		switch {
		case l.Cut:
			blocks = append(blocks, cutBlock())
			if logo != nil && i < len(doc.Lines)-1 {
				blocks = append(blocks, logoBlock(logo))
			}
		case l.QR != "":
			b, err := qrBlock(l, module)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			blocks = append(blocks, b)
		default:
			sx, sy := scale(l.Size)
			for _, r := range wrap(l.Text, Columns, sx) {
				blocks = append(blocks, d.textBlock(r, l.Align, l.Bold, sx, sy))
			}
		}
	}
	if doc.Cut {
		blocks = append(blocks, cutBlock())
	}
	height := 0
	for _, b := range blocks {
		height += b.height
	}
	img := image.NewPaletted(image.Rect(0, 0, Dots, max(height, 1)), palette)
	y := 0
	for _, b := range blocks {
		b.draw(img, y)
		y += b.height
	}
	return img, nil
}

// block is a band of paper across the whole width.
type block struct {
	height int
	draw   func(img *image.Paletted, y int)
}

func cutBlock() block {
	return block{height: CutDots, draw: func(img *image.Paletted, y int) {
		mid := y + CutDots/2
		for x := 0; x < Dots; x++ {
			if x%12 < 8 { // 8 dots of dash, 4 of gap
				img.SetColorIndex(x, mid, 1)
				img.SetColorIndex(x, mid+1, 1)
			}
		}
	}}
}

func logoBlock(logo *image.Paletted) block {
	b := logo.Bounds()
	return block{height: b.Dy() + LineGap, draw: func(img *image.Paletted, y int) {
		x0 := pad(printer.AlignCenter, b.Dx(), Dots)
		draw.Draw(img, image.Rect(x0, y, x0+b.Dx(), y+b.Dy()), logo, b.Min, draw.Src)
	}}
}

// threshold turns a logo into black and white by the ESC/POS driver's
// rule: black when mostly opaque and darker than mid-grey.
func threshold(src image.Image) (*image.Paletted, error) {
	b := src.Bounds()
	if b.Dx() < 1 || b.Dy() < 1 || b.Dx() > Dots {
		return nil, fmt.Errorf("logo of %d×%d dots: want 1 to %d wide", b.Dx(), b.Dy(), Dots)
	}
	out := image.NewPaletted(image.Rect(0, 0, b.Dx(), b.Dy()), palette)
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			cr, cg, cb, ca := src.At(b.Min.X+x, b.Min.Y+y).RGBA()
			lum := (299*cr + 587*cg + 114*cb) / 1000 // 16-bit, alpha-premultiplied
			if ca >= 0x8000 && lum < ca/2 {
				out.SetColorIndex(x, y, 1)
			}
		}
	}
	return out, nil
}

// QRBitmap returns the modules of the QR code PNG draws for content,
// without its quiet zone: true is a dark module.
func QRBitmap(content string) ([][]bool, error) {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("encoding the qr code: %w", err)
	}
	q.DisableBorder = true
	return q.Bitmap(), nil
}

func qrBlock(l printer.Line, module int) (block, error) {
	bits, err := QRBitmap(l.QR)
	if err != nil {
		return block{}, err
	}
	n := len(bits)
	if n > Dots {
		return block{}, fmt.Errorf("qr code of %d modules: wider than the %d-dot paper", n, Dots)
	}
	module = min(module, Dots/n)
	side, quiet := n*module, QRQuietModules*module
	return block{height: side + 2*quiet, draw: func(img *image.Paletted, y int) {
		x0, y0 := pad(l.Align, side, Dots), y+quiet
		for my, line := range bits {
			for mx, dark := range line {
				if !dark {
					continue
				}
				for dy := range module {
					for dx := range module {
						img.SetColorIndex(x0+mx*module+dx, y0+my*module+dy, 1)
					}
				}
			}
		}
	}}, nil
}

// drawer draws text rows with one face.
type drawer struct {
	font *Font
	face font.Face
	buf  sfnt.Buffer
}

// Baseline is how far below the top of a 24-dot character cell the
// baseline lies: CJK fonts design their characters in an ideographic em
// box 0.88 em above the baseline and 0.12 em below, which a printer's
// 24-dot cell holds exactly.
const Baseline = GlyphDots * 88 / 100

// textBlock draws one row: each character in its own cell of the
// printer's grid, at normal size, turned black or white dot by dot,
// struck again a dot to the right when bold, then magnified sx by sy.
func (d *drawer) textBlock(r row, a printer.Align, bold bool, sx, sy int) block {
	// The row at normal size, one dot a pixel.
	cols := r.cols / sx
	dots := image.NewPaletted(image.Rect(0, 0, max(cols*CellDots+1, 1), GlyphDots), palette)
	x := 0
	for _, c := range r.runes {
		cw := runeWidth(c) * CellDots
		d.glyph(dots, c, x, cw)
		x += cw
	}
	if bold {
		for yy := 0; yy < GlyphDots; yy++ {
			for xx := dots.Rect.Dx() - 1; xx > 0; xx-- {
				if dots.ColorIndexAt(xx-1, yy) == 1 {
					dots.SetColorIndex(xx, yy, 1)
				}
			}
		}
	}
	return block{height: GlyphDots*sy + LineGap, draw: func(img *image.Paletted, y int) {
		x0 := pad(a, r.cols*CellDots, Dots)
		for yy := 0; yy < GlyphDots*sy; yy++ {
			for xx := 0; xx < dots.Rect.Dx()*sx; xx++ {
				if dots.ColorIndexAt(xx/sx, yy/sy) == 1 && x0+xx < Dots {
					img.SetColorIndex(x0+xx, y+yy, 1)
				}
			}
		}
	}}
}

// glyph draws c into the cell cw dots wide at x of a normal-size row: the
// font's outline when the font has the character, else an empty box, so
// that a missing character shows instead of vanishing. A space draws
// nothing.
func (d *drawer) glyph(dst *image.Paletted, c rune, x, cw int) {
	if c == ' ' {
		return
	}
	if gi, err := d.font.f.GlyphIndex(&d.buf, c); err != nil || gi == 0 {
		missingBox(dst, x, cw)
		return
	}
	dr, mask, mp, _, ok := d.face.Glyph(fixed.P(x, Baseline), c)
	if !ok {
		missingBox(dst, x, cw)
		return
	}
	for yy := dr.Min.Y; yy < dr.Max.Y; yy++ {
		for xx := dr.Min.X; xx < dr.Max.X; xx++ {
			if _, _, _, al := mask.At(mp.X+xx-dr.Min.X, mp.Y+yy-dr.Min.Y).RGBA(); al >= 0x8000 {
				dst.SetColorIndex(xx, yy, 1) // outside dst is ignored
			}
		}
	}
}

// missingBox draws the outline of a box inside the cell: the mark of a
// character the font does not have.
func missingBox(dst *image.Paletted, x, cw int) {
	x0, x1, y0, y1 := x+2, x+cw-3, 3, GlyphDots-3
	for xx := x0; xx <= x1; xx++ {
		dst.SetColorIndex(xx, y0, 1)
		dst.SetColorIndex(xx, y1, 1)
	}
	for yy := y0; yy <= y1; yy++ {
		dst.SetColorIndex(x0, yy, 1)
		dst.SetColorIndex(x1, yy, 1)
	}
}
