package qr

import (
	"errors"
	"strings"
	"testing"

	"github.com/posrt/posrt/runtime/journal"
)

func TestPublishedFormatsAtTheirBoundaries(t *testing.T) {
	d := Default()
	for _, tc := range []struct {
		code string
		want journal.Medium
	}{
		// WeChat Pay: 18 digits, 10 to 16.
		{"100000000000000000", journal.MediumWeChat},
		{"134567890123456789", journal.MediumWeChat},
		{"159999999999999999", journal.MediumWeChat},
		{"169999999999999999", journal.MediumWeChat},
		// Alipay: 25 to 30, 16 to 32 digits.
		{"2500000000000000", journal.MediumAlipay},
		{"2812345678901234", journal.MediumAlipay},
		{"281234567890123456", journal.MediumAlipay}, // 18 digits, as Alipay issues them
		{"301234567890123456789012", journal.MediumAlipay},
		{"29123456789012345678901234567890", journal.MediumAlipay},
		{"30999999999999999999999999999999", journal.MediumAlipay},
		// UnionPay QR: 62 and 17 more digits.
		{"6200000000000000000", journal.MediumUnionPayQR},
		{"6212345678901234567", journal.MediumUnionPayQR},
	} {
		got, err := d.Detect(tc.code)
		if err != nil || got.Medium != tc.want {
			t.Errorf("Detect(%s) = %+v, %v; want %s", tc.code, got, err, tc.want)
		}
	}
}

func TestMalformedCodesAreUnrecognised(t *testing.T) {
	d := Default()
	for name, code := range map[string]string{
		"empty":                         "",
		"WeChat prefix 17":              "174567890123456789",
		"WeChat prefix 09":              "094567890123456789",
		"WeChat 17 digits":              "13456789012345678",
		"WeChat 19 digits":              "1345678901234567890",
		"Alipay prefix 24":              "2412345678901234",
		"Alipay prefix 31":              "3112345678901234",
		"Alipay 15 digits":              "281234567890123",
		"Alipay 33 digits":              "281234567890123456789012345678901",
		"UnionPay 18 digits":            "621234567890123456",
		"UnionPay 20 digits":            "62123456789012345678",
		"UnionPay prefix 63":            "6312345678901234567",
		"a letter":                      "13456789012345678x",
		"letters only":                  "wechatpaycodeabcde",
		"a leading space":               " 134567890123456789",
		"a trailing newline":            "134567890123456789\n",
		"a space inside":                "134567890 123456789",
		"a dash":                        "1345-67890123456789",
		"full-width digits":             "１３４５６７８９０１２３４５６７８９",
		"Arabic-Indic digits":           "١٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩",
		"one full-width digit":          "３4567890123456789",
		"a NUL":                         "13456789012345678\x00",
		"longer than any code":          strings.Repeat("1", MaxCodeLen+1),
		"a minus sign":                  "-134567890123456789",
		"a number in exponent notation": "1.3456789012345678e17",
	} {
		_, err := d.Detect(code)
		if !errors.Is(err, ErrUnrecognised) {
			t.Errorf("%s: Detect(%q) = %v, want unrecognised", name, code, err)
			continue
		}
		if len(code) > 8 && strings.Contains(err.Error(), code) {
			t.Errorf("%s: the error shows the whole code: %v", name, err)
		}
		// The cashier is told what is accepted.
		for _, r := range DefaultRules() {
			if !strings.Contains(err.Error(), r.Name) {
				t.Errorf("%s: the error does not name %q: %v", name, r.Name, err)
			}
		}
	}
}

func TestDeployerRuleIsDetected(t *testing.T) {
	d, err := NewDetector([]Rule{{Medium: journal.MediumAlipay, Pattern: `31\d{14}`, Name: "Alipay+ partner: 16 digits starting 31"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Detect("3112345678901234")
	if err != nil || got.Medium != journal.MediumAlipay || got.Name != "Alipay+ partner: 16 digits starting 31" {
		t.Fatalf("deployer rule: %+v, %v", got, err)
	}
	// The pattern matches the whole code, though it was written without
	// anchors.
	for _, code := range []string{"311234567890123456", "93112345678901234", "3112345678901234x"} {
		if _, err := d.Detect(code); !errors.Is(err, ErrUnrecognised) {
			t.Errorf("Detect(%q) = %v: an unanchored deployer pattern matched part of a code", code, err)
		}
	}
	// The published rules still hold, and come after the deployer's.
	if got, err := d.Detect("134567890123456789"); err != nil || got.Medium != journal.MediumWeChat {
		t.Fatalf("published rule next to a deployer's: %+v, %v", got, err)
	}
	rules := d.Rules()
	if len(rules) != 4 || rules[0].Name != "Alipay+ partner: 16 digits starting 31" || rules[1].Medium != journal.MediumWeChat {
		t.Fatalf("table order: %+v", rules)
	}
	if _, err := d.Detect("9999"); err == nil || !strings.Contains(err.Error(), "Alipay+ partner: 16 digits starting 31") {
		t.Fatalf("the refusal does not name the deployer's format: %v", err)
	}
}

// A deployer rule of the same medium as a published one, overlapping it,
// is reported first; one of another medium makes the shared codes
// ambiguous, refused rather than sent to either wallet.
func TestOverlappingRules(t *testing.T) {
	d, err := NewDetector([]Rule{
		{Medium: journal.MediumWeChat, Pattern: `^13\d{16}$`, Name: "WeChat 13"},
		{Medium: journal.MediumAlipay, Pattern: `^16\d{16}$`, Name: "Alipay 16"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := d.Detect("134567890123456789"); err != nil || got.Name != "WeChat 13" {
		t.Fatalf("same-medium overlap: %+v, %v", got, err)
	}
	_, err = d.Detect("164567890123456789")
	if !errors.Is(err, ErrAmbiguous) || errors.Is(err, ErrUnrecognised) {
		t.Fatalf("a code of two media: %v, want ambiguous", err)
	}
	for _, want := range []string{"Alipay 16", "alipay", "WeChat Pay: 18 digits starting 10-16", "wechat"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the ambiguity does not name %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "164567890123456789") {
		t.Errorf("the error shows the whole code: %v", err)
	}
	// Codes only one medium's rules match are unaffected.
	if got, err := d.Detect("154567890123456789"); err != nil || got.Medium != journal.MediumWeChat {
		t.Fatalf("%+v, %v", got, err)
	}
}

func TestBadRulesAreRefusedNamingTheRule(t *testing.T) {
	for _, tc := range []struct {
		rule Rule
		want string
	}{
		{Rule{Medium: journal.MediumAlipay, Pattern: `^(28\d{14}$`, Name: "broken"}, `rule 2 ("broken"): compiling pattern "^(28\\d{14}$"`},
		{Rule{Medium: journal.MediumCard, Pattern: `^9\d{15}$`, Name: "a card"}, `rule 2 ("a card"): medium "card" is not a payment-code wallet`},
		{Rule{Medium: "paypal", Pattern: `^9\d{15}$`, Name: "other"}, `medium "paypal" is not a payment-code wallet`},
		{Rule{Medium: journal.MediumAlipay, Pattern: `^28\d{14}$`}, `rule 2 (""): needs a name`},
		{Rule{Medium: journal.MediumAlipay, Name: "no pattern"}, `needs a pattern`},
		{Rule{Medium: journal.MediumAlipay, Pattern: `\d*`, Name: "everything"}, `matches an empty code`},
	} {
		good := Rule{Medium: journal.MediumWeChat, Pattern: `^17\d{16}$`, Name: "fine"}
		d, err := NewDetector([]Rule{good, tc.rule})
		if err == nil || d != nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("rule %+v: %v, want an error with %q", tc.rule, err, tc.want)
		}
	}
}

// Detectors do not share their tables: one built with a deployer's rule
// does not change another.
func TestDetectorsAreIndependent(t *testing.T) {
	if _, err := NewDetector([]Rule{{Medium: journal.MediumAlipay, Pattern: `^31\d{14}$`, Name: "31"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Default().Detect("3112345678901234"); !errors.Is(err, ErrUnrecognised) {
		t.Fatalf("a deployer rule leaked into the default table: %v", err)
	}
	rules := DefaultRules()
	rules[0].Pattern = `.*`
	if _, err := Default().Detect("not-a-code"); !errors.Is(err, ErrUnrecognised) {
		t.Fatalf("changing DefaultRules' slice changed the table: %v", err)
	}
}

// A loose deployer pattern never lets through what no wallet issues:
// spaces, full-width digits, control characters or an endless code are
// refused before the rules are tried.
func TestOnlyPlainCodesReachTheRules(t *testing.T) {
	d, err := NewDetector([]Rule{{Medium: journal.MediumAlipay, Pattern: `^9.+$`, Name: "9 and anything"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := d.Detect("9abcDEF012"); err != nil || got.Medium != journal.MediumAlipay {
		t.Fatalf("plain code: %+v, %v", got, err)
	}
	for _, code := range []string{"9 12345", "9１２３", "9\t1", "9\x00", "9é", "9" + strings.Repeat("1", MaxCodeLen)} {
		if _, err := d.Detect(code); !errors.Is(err, ErrUnrecognised) {
			t.Errorf("Detect(%q) = %v, want unrecognised", code, err)
		}
	}
}
