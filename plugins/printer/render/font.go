package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
)

// DefaultFontPath is where Debian's fonts-noto-cjk package installs the
// Noto Sans CJK collection PNG draws receipts with.
const DefaultFontPath = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"

// FontPackage is the Debian package that installs DefaultFontPath.
const FontPackage = "fonts-noto-cjk"

// Font is a parsed receipt font: one face of an OpenType font or font
// collection. Load it once with LoadFont and pass it in Options.Font to
// draw many receipts; it is safe for concurrent use.
type Font struct {
	f    *opentype.Font
	name string
}

// Name is the full name of the face, such as "Noto Sans Mono CJK SC".
func (f *Font) Name() string { return f.name }

// LoadFont reads the font file at path (DefaultFontPath when empty), an
// OpenType font or a collection (.ttc, .otc). From a collection it takes
// the face best suited to a receipt: the monospaced Simplified Chinese one
// ("Mono" and "SC" in its name) if there is one, else a Simplified Chinese
// one, else the first. A missing file is an error naming the Debian
// package that installs the default font.
func LoadFont(path string) (*Font, error) {
	if path == "" {
		path = DefaultFontPath
	}
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading the receipt font: %s does not exist: install a CJK font (apt-get install %s) or name another OpenType font", path, FontPackage)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the receipt font: %w", err)
	}
	c, err := opentype.ParseCollection(src)
	if err != nil {
		return nil, fmt.Errorf("parsing the receipt font %s: %w", path, err)
	}
	best, bestScore := -1, -1
	var bestName string
	for i := range c.NumFonts() {
		f, err := c.Font(i)
		if err != nil {
			return nil, fmt.Errorf("parsing face %d of the receipt font %s: %w", i, path, err)
		}
		name, _ := f.Name(nil, sfnt.NameIDFull)
		score := 0
		if strings.HasSuffix(name, " SC") || strings.Contains(name, " SC ") {
			score += 2
			if strings.Contains(name, "Mono") {
				score++
			}
		}
		if score > bestScore {
			best, bestScore, bestName = i, score, name
		}
	}
	if best < 0 {
		return nil, fmt.Errorf("parsing the receipt font %s: it holds no face", path)
	}
	f, _ := c.Font(best)
	return &Font{f: f, name: bestName}, nil
}
