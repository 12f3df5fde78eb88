package money

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

// parseCase is an input, the amount it parses to, or a substring of the
// error it must give (empty means valid).
type parseCase struct {
	in   string
	want Fen
	msg  string
}

func checkParse(t *testing.T, name string, parse func(string) (Fen, error), cases []parseCase) {
	t.Helper()
	for _, c := range cases {
		got, err := parse(c.in)
		if c.msg == "" {
			if err != nil || got != c.want {
				t.Errorf("%s(%q) = %d, %v; want %d", name, c.in, got, err, c.want)
			}
			continue
		}
		if got != 0 || !errors.Is(err, ErrInvalidAmount) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s(%q) = %d, %v; want ErrInvalidAmount mentioning %q", name, c.in, got, err, c.msg)
		}
	}
}

func TestParseJSON(t *testing.T) {
	checkParse(t, "ParseJSON", func(s string) (Fen, error) { return ParseJSON(json.RawMessage(s)) }, []parseCase{
		{"1234", 1234, ""},
		{"1", 1, ""},
		{"9999999999", MaxAmount, ""},
		{"", 0, "required"},
		{"null", 0, "required"},
		{"0", 0, "at least 1 fen"},
		{"-5", 0, "positive"},
		{"12.34", 0, "fraction"},
		{"1e3", 0, "fraction"},
		{`"1234"`, 0, "not a string"},
		{"10000000000", 0, "above the maximum"},
		{"99999999999999999999999", 0, "above the maximum"},
		{"true", 0, "digits only"},
		{"{}", 0, "digits only"},
	})
}

func TestParse(t *testing.T) {
	checkParse(t, "Parse", Parse, []parseCase{
		{"1234", 1234, ""},
		{"9999999999", MaxAmount, ""},
		{"007", 7, ""},
		{"", 0, "required"},
		{"0", 0, "at least 1 fen"},
		{"-5", 0, "positive"},
		{"12.34", 0, "in fen, not yuan: 12.34 yuan is 1234 fen"},
		{"12.5", 0, "12.5 yuan is 1250 fen"},
		{"0.01", 0, "0.01 yuan is 1 fen"},
		{"0.00", 0, "digits only"},
		{"1.234", 0, "digits only"},
		{"99999999999.99", 0, "digits only"},
		{"12,34", 0, "digits only"},
		{"abc", 0, "digits only"},
		{"10000000000", 0, "above the maximum"},
	})
}

func TestYuan(t *testing.T) {
	for f, want := range map[Fen]string{0: "0.00", 5: "0.05", 1234: "12.34", -150: "-1.50", -5: "-0.05", 100: "1.00", MaxAmount: "99999999.99", math.MinInt64: "-92233720368547758.08"} {
		if got := f.Yuan(); got != want {
			t.Errorf("Fen(%d).Yuan() = %q, want %q", int64(f), got, want)
		}
	}
}
