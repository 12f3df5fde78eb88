package qr

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/posrt/posrt/runtime/journal"
)

// ErrUnrecognised is returned for a code that no rule of the table
// matches: it is no wallet's payment code, and nothing is sent.
var ErrUnrecognised = errors.New("unrecognised payment code")

// ErrAmbiguous is returned for a code that rules of two or more media
// match: posrt never guesses which wallet to charge.
var ErrAmbiguous = errors.New("ambiguous payment code")

// MaxCodeLen is the longest payment code looked at; anything longer is
// unrecognised without trying the rules.
const MaxCodeLen = 64

// Rule is one line of the table: codes that Pattern matches belong to
// Medium. Pattern is an RE2 regular expression (Go regexp syntax) matched
// against the whole code, anchored whether or not it says ^ and $. Name
// tells a cashier or a deployer the format in words.
type Rule struct {
	Medium  journal.Medium
	Pattern string
	Name    string
}

// DefaultRules returns the wallets' published formats (see
// shared/DOMAIN.md, "QR sale"), a new slice on each call.
func DefaultRules() []Rule {
	return []Rule{
		{Medium: journal.MediumWeChat, Pattern: `^1[0-6]\d{16}$`, Name: "WeChat Pay: 18 digits starting 10-16"},
		{Medium: journal.MediumAlipay, Pattern: `^(2[5-9]|30)\d{14,30}$`, Name: "Alipay: 16-32 digits starting 25-30"},
		{Medium: journal.MediumUnionPayQR, Pattern: `^62\d{17}$`, Name: "UnionPay QR: 19 digits starting 62"},
	}
}

type rule struct {
	Rule
	re       *regexp.Regexp
	deployer bool
}

// Detector tells the medium of a payment code from a table of rules: a
// deployer's rules, then the published ones. It is immutable once built
// and safe for concurrent use.
type Detector struct {
	rules []rule
}

// NewDetector builds a Detector from the deployer's rules (none: the
// published formats only), checked before DefaultRules. Each rule needs a
// wallet medium, a name and a pattern that compiles; the error names the
// rule that does not (1-based, as [[qr.rule]] entries are counted).
func NewDetector(deployer []Rule) (*Detector, error) {
	d := &Detector{}
	var errs []error
	for i, r := range deployer {
		c, err := compile(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("rule %d (%q): %w", i+1, r.Name, err))
			continue
		}
		c.deployer = true
		d.rules = append(d.rules, c)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, r := range DefaultRules() {
		c, err := compile(r)
		if err != nil {
			return nil, fmt.Errorf("compiling published rule %q: %w", r.Name, err)
		}
		d.rules = append(d.rules, c)
	}
	return d, nil
}

// Default is the Detector of the published formats only.
func Default() *Detector {
	d, err := NewDetector(nil)
	if err != nil {
		panic(err) // the published rules are constants of this package
	}
	return d
}

// Check reports what is wrong with r as a rule of a Detector: a medium
// that is not a wallet, no name, or a pattern that does not compile or
// matches an empty code.
func (r Rule) Check() error {
	_, err := compile(r)
	return err
}

func compile(r Rule) (rule, error) {
	switch {
	case !r.Medium.Wallet():
		return rule{}, fmt.Errorf("medium %q is not a payment-code wallet (wechat, alipay or unionpay_qr)", r.Medium)
	case strings.TrimSpace(r.Name) == "":
		return rule{}, errors.New("needs a name describing the format, such as \"Alipay+: 32 digits starting 28\"")
	case r.Pattern == "":
		return rule{}, errors.New("needs a pattern")
	}
	re, err := regexp.Compile(`^(?:` + r.Pattern + `)$`)
	if err != nil {
		return rule{}, fmt.Errorf("compiling pattern %q: %w", r.Pattern, err)
	}
	if re.MatchString("") {
		return rule{}, fmt.Errorf("pattern %q matches an empty code", r.Pattern)
	}
	return rule{Rule: r, re: re}, nil
}

// Rules returns the table in the order it is checked: the deployer's
// rules, then the published ones.
func (d *Detector) Rules() []Rule {
	out := make([]Rule, len(d.rules))
	for i, r := range d.rules {
		out[i] = r.Rule
	}
	return out
}

// Formats names every accepted format, for a message to a cashier.
func (d *Detector) Formats() string {
	names := make([]string, len(d.rules))
	for i, r := range d.rules {
		names[i] = r.Name
	}
	return strings.Join(names, "; ")
}

// Detect returns the rule a payment code matches, from the code alone and
// before any network call. A code must be 1 to MaxCodeLen ASCII letters
// or digits, or it is ErrUnrecognised whatever the rules say. Every rule
// is tried: when the rules that match name one medium, the first of them
// (a deployer's before a published one) is returned; when they name two
// or more media the code is ErrAmbiguous; when none matches it is
// ErrUnrecognised. Errors show the code masked, never whole.
func (d *Detector) Detect(code string) (Rule, error) {
	if !plain(code) {
		return Rule{}, d.unrecognised(code)
	}
	var found *rule
	var others []string
	for i := range d.rules {
		r := &d.rules[i]
		if !r.re.MatchString(code) {
			continue
		}
		switch {
		case found == nil:
			found = r
		case r.Medium != found.Medium:
			others = append(others, fmt.Sprintf("%q (%s)", r.Name, r.Medium))
		}
	}
	if found == nil {
		return Rule{}, d.unrecognised(code)
	}
	if len(others) > 0 {
		return Rule{}, fmt.Errorf("%w: %s matches rule %q (%s) and %s; fix the [[qr.rule]] entries of the configuration so that one wallet's rules match it",
			ErrAmbiguous, journal.MaskCode(code), found.Name, found.Medium, strings.Join(others, ", "))
	}
	return found.Rule, nil
}

func (d *Detector) unrecognised(code string) error {
	n := len([]rune(code))
	switch {
	case code == "":
		return fmt.Errorf("%w: the code is empty (accepted: %s)", ErrUnrecognised, d.Formats())
	case len(code) > MaxCodeLen:
		return fmt.Errorf("%w: the code is %d characters long, more than any payment code (accepted: %s)", ErrUnrecognised, n, d.Formats())
	case !plain(code):
		// Not shown even masked: it may not be one character a byte.
		return fmt.Errorf("%w: the code (%d characters) holds characters other than ASCII digits and letters, such as a space or a full-width digit (accepted: %s)", ErrUnrecognised, n, d.Formats())
	}
	return fmt.Errorf("%w: %s (%d characters) is not a payment code this terminal accepts (accepted: %s)",
		ErrUnrecognised, journal.MaskCode(code), n, d.Formats())
}

// plain reports whether code is 1 to MaxCodeLen ASCII letters or digits.
func plain(code string) bool {
	if code == "" || len(code) > MaxCodeLen {
		return false
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
