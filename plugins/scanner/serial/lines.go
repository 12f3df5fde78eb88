package serial

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Terminator is what ends each code a serial scanner sends.
type Terminator string

// Terminators a serial scanner can be set to send.
const (
	TerminatorCR   Terminator = "cr"
	TerminatorLF   Terminator = "lf"
	TerminatorCRLF Terminator = "crlf"
)

// DefaultMaxLength is the longest line, terminator excluded, taken as a
// code when the configuration sets no max_length.
const DefaultMaxLength = 512

// Lines decodes the byte stream of a serial scanner into codes. The zero
// Lines is not usable; set its fields before the first Feed.
type Lines struct {
	Terminator Terminator
	// Prefix and Suffix, when set, must open and close every line; they
	// are stripped from the code.
	Prefix, Suffix string
	// MaxLength is the longest line accepted, in bytes, terminator
	// excluded.
	MaxLength int

	buf []byte
	bad string // why the line being read is refused; empty while it is fine
	cr  bool   // crlf: a CR came, an LF must follow
}

// Feed takes the next byte. At the end of a line it returns end set, and
// the code, or why the line was refused (bad).
func (l *Lines) Feed(b byte) (code, bad string, end bool) {
	if l.Terminator == TerminatorCRLF {
		if l.cr {
			l.cr = false
			if b == '\n' {
				return l.end()
			}
			l.refuse("control character 0x0d")
		}
		if b == '\r' {
			l.cr = true
			return "", "", false
		}
	}
	switch {
	case l.Terminator == TerminatorCR && b == '\r', l.Terminator == TerminatorLF && b == '\n':
		return l.end()
	case b < 0x20 || b == 0x7f:
		l.refuse(fmt.Sprintf("control character 0x%02x", b))
	case len(l.buf) >= l.MaxLength:
		l.refuse(fmt.Sprintf("longer than %d bytes", l.MaxLength))
	default:
		l.buf = append(l.buf, b)
	}
	return "", "", false
}

// refuse marks the line being read as bad, keeping the first reason.
func (l *Lines) refuse(why string) {
	if l.bad == "" {
		l.bad = why
	}
}

func (l *Lines) end() (code, bad string, end bool) {
	line, bad := string(l.buf), l.bad
	l.buf, l.bad = l.buf[:0], ""
	if bad != "" {
		return "", bad, true
	}
	if !utf8.ValidString(line) {
		return "", "not UTF-8", true
	}
	code, ok := strings.CutPrefix(line, l.Prefix)
	if !ok {
		return "", fmt.Sprintf("without the prefix %q", l.Prefix), true
	}
	code, ok = strings.CutSuffix(code, l.Suffix)
	if !ok {
		return "", fmt.Sprintf("without the suffix %q", l.Suffix), true
	}
	if code == "" {
		return "", "empty", true
	}
	return code, "", true
}
