package serial

import (
	"strings"
	"testing"
)

// feed runs stream through l and returns the codes and the bad reads.
func feed(l Lines, stream string) (codes, bad []string) {
	for _, b := range []byte(stream) {
		if c, why, end := l.Feed(b); end && why != "" {
			bad = append(bad, why)
		} else if end {
			codes = append(codes, c)
		}
	}
	return codes, bad
}

func TestLines(t *testing.T) {
	long := strings.Repeat("9", 513)
	for _, tc := range []struct {
		name       string
		l          Lines
		stream     string
		codes, bad string // joined with |
	}{
		{"cr", Lines{Terminator: TerminatorCR, MaxLength: 512}, "134567890123456789\r281234567890123456\r", "134567890123456789|281234567890123456", ""},
		{"lf", Lines{Terminator: TerminatorLF, MaxLength: 512}, "6212345678901234567\n", "6212345678901234567", ""},
		{"crlf", Lines{Terminator: TerminatorCRLF, MaxLength: 512}, "a1\r\nb2\r\n", "a1|b2", ""},
		{"crlf lone cr", Lines{Terminator: TerminatorCRLF, MaxLength: 512}, "a1\rb2\r\nc3\r\n", "c3", "control character 0x0d"},
		{"cr gets crlf", Lines{Terminator: TerminatorCR, MaxLength: 512}, "a1\r\nb2\r", "a1", "control character 0x0a"},
		{"control character", Lines{Terminator: TerminatorCR, MaxLength: 512}, "12\x0034\rok\r", "ok", "control character 0x00"},
		{"escape", Lines{Terminator: TerminatorCR, MaxLength: 512}, "\x1b[A\r", "", "control character 0x1b"},
		{"delete", Lines{Terminator: TerminatorCR, MaxLength: 512}, "12\x7f\r", "", "control character 0x7f"},
		{"over-long", Lines{Terminator: TerminatorCR, MaxLength: 512}, long + "\r" + long[:512] + "\r", long[:512], "longer than 512 bytes"},
		{"not utf-8", Lines{Terminator: TerminatorCR, MaxLength: 512}, "\xff\xfe\rok\r", "ok", "not UTF-8"},
		{"utf-8", Lines{Terminator: TerminatorCR, MaxLength: 512}, "付款码\r", "付款码", ""},
		{"empty", Lines{Terminator: TerminatorCR, MaxLength: 512}, "\r", "", "empty"},
		{"prefix and suffix", Lines{Terminator: TerminatorCR, MaxLength: 512, Prefix: "]Q1", Suffix: "#"}, "]Q1134567890123456789#\r", "134567890123456789", ""},
		{"missing prefix", Lines{Terminator: TerminatorCR, MaxLength: 512, Prefix: "]Q1"}, "134567890123456789\r", "", `without the prefix "]Q1"`},
		{"missing suffix", Lines{Terminator: TerminatorCR, MaxLength: 512, Suffix: "#"}, "134567890123456789\r", "", `without the suffix "#"`},
		{"only the prefix", Lines{Terminator: TerminatorCR, MaxLength: 512, Prefix: "]Q1"}, "]Q1\r", "", "empty"},
		{"partial line kept", Lines{Terminator: TerminatorCR, MaxLength: 512}, "1345", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			codes, bad := feed(tc.l, tc.stream)
			if got := strings.Join(codes, "|"); got != tc.codes {
				t.Errorf("codes %q, want %q", got, tc.codes)
			}
			if got := strings.Join(bad, "|"); got != tc.bad {
				t.Errorf("bad reads %q, want %q", got, tc.bad)
			}
		})
	}
}
