// Package render draws a receipt document of the printer contract the way a
// 58 mm thermal receipt printer lays it out, without a printer: Text gives
// the 32-column plain text (Chinese, Japanese and Korean characters two
// columns wide, double-width text twice as wide, a QR code as one
// placeholder row, a cut as a row of dashes), and PNG the 384-dot-wide
// image such a printer prints, with a CJK font from Debian's fonts-noto-cjk
// (its monospaced Simplified Chinese face, whose Latin letters are half as
// wide as its Chinese characters, as a printer's built-in font has them),
// emphasised text struck twice a dot apart, magnified text scaled dot by dot,
// real QR codes at error level M, a logo at the top of each copy and a
// dashed line for each cut. The fake printer saves every job both ways and
// `posrt receipt preview` shows merchants their receipts with it; the
// ESC/POS driver does not use it.
package render
