package money

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
)

// Fen is an amount in fen, the smallest unit of the yuan.
type Fen int64

// MaxAmount is the largest amount one transaction may carry: 99,999,999.99 yuan.
const MaxAmount Fen = 9999999999

// Yuan renders the amount as yuan with two decimals, e.g. "12.34".
func (f Fen) Yuan() string {
	var b [24]byte
	return string(f.AppendYuan(b[:0]))
}

// AppendYuan appends the amount as Yuan writes it to b.
func (f Fen) AppendYuan(b []byte) []byte {
	u := uint64(f)
	if f < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendUint(b, u/100, 10)
	cents := u % 100
	return append(b, '.', byte('0'+cents/10), byte('0'+cents%10))
}

// yuanAmount matches an amount written in yuan with one or two decimals.
var yuanAmount = regexp.MustCompile(`^([0-9]+)\.([0-9]{1,2})$`)

// ErrInvalidAmount is wrapped by every error of ParseJSON and Parse.
var ErrInvalidAmount = errors.New("invalid amount")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidAmount}, args...)...)
}

// ParseJSON reads an amount in fen from a raw JSON value. It accepts only a
// JSON integer from 1 to MaxAmount: a missing value, a string, a fraction,
// an exponent, zero, a negative number or too large a number is refused
// with a message that says which.
func ParseJSON(raw json.RawMessage) (Fen, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, invalid("amount is required: an integer number of fen (1 yuan = 100 fen)")
	}
	switch raw[0] {
	case '"':
		return 0, invalid("amount must be a JSON integer of fen, not a string (got %s)", raw)
	case '-':
		return 0, invalid("amount must be positive (got %s fen)", raw)
	}
	if raw[0] < '0' || raw[0] > '9' {
		return 0, invalid("amount must be a JSON integer of fen, digits only (got %s)", raw)
	}
	if bytes.ContainsAny(raw, ".eE") {
		return 0, invalid("amount must be a whole number of fen, not a fraction (got %s; 12.34 yuan is 1234 fen)", raw)
	}
	return Parse(string(raw))
}

// Parse reads an amount in fen from decimal digits, as typed by a cashier.
// An amount typed in yuan ("12.34") is refused with the fen it stands for,
// for the cashier to type: posrt never guesses the unit of an amount.
func Parse(s string) (Fen, error) {
	if s == "" {
		return 0, invalid("amount is required: an integer number of fen (1 yuan = 100 fen)")
	}
	if s[0] == '-' {
		return 0, invalid("amount must be positive (got %s fen)", s)
	}
	if m := yuanAmount.FindStringSubmatch(s); m != nil {
		fen, err := Parse(m[1] + (m[2] + "00")[:2])
		if err == nil {
			return 0, invalid("amount is in fen, not yuan: %s yuan is %d fen", s, fen)
		}
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, invalid("amount must be a whole number of fen, digits only (got %q)", s)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || Fen(n) > MaxAmount {
		return 0, invalid("amount %s fen is above the maximum of %d fen (%s yuan)", s, MaxAmount, MaxAmount.Yuan())
	}
	if n == 0 {
		return 0, invalid("amount must be at least 1 fen (got 0)")
	}
	return Fen(n), nil
}
