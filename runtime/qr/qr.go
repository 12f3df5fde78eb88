package qr

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/posrt/posrt/runtime/journal"
)

// ErrUnrecognised is returned for a code that is no wallet's payment code.
var ErrUnrecognised = errors.New("unrecognised payment code")

// The wallets' payment-code rules, checked in this order.
var rules = []struct {
	medium journal.Medium
	re     *regexp.Regexp
	rule   string
}{
	{journal.MediumWeChat, regexp.MustCompile(`^1[0-6]\d{16}$`), "WeChat Pay: 18 digits starting 10-16"},
	{journal.MediumAlipay, regexp.MustCompile(`^(2[5-9]|30)\d{14,30}$`), "Alipay: 16-32 digits starting 25-30"},
	{journal.MediumUnionPayQR, regexp.MustCompile(`^62\d{17}$`), "UnionPay QR: 19 digits starting 62"},
}

// Detect returns the wallet a payment code belongs to, from the code
// alone, or ErrUnrecognised (before any network call).
func Detect(code string) (journal.Medium, error) {
	for _, r := range rules {
		if r.re.MatchString(code) {
			return r.medium, nil
		}
	}
	return "", fmt.Errorf("%w: %s is not a WeChat Pay, Alipay or UnionPay QR payment code", ErrUnrecognised, journal.MaskCode(code))
}
