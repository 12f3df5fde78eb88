package qr

import (
	"errors"
	"strings"
	"testing"

	"github.com/posrt/posrt/runtime/journal"
)

func TestDetect(t *testing.T) {
	for code, want := range map[string]journal.Medium{
		"134567890123456789":               journal.MediumWeChat,
		"104567890123456789":               journal.MediumWeChat,
		"164567890123456789":               journal.MediumWeChat,
		"2812345678901234":                 journal.MediumAlipay,
		"301234567890123456789012":         journal.MediumAlipay,
		"25123456789012345678901234567890": journal.MediumAlipay,
		"6212345678901234567":              journal.MediumUnionPayQR,
	} {
		got, err := Detect(code)
		if err != nil || got != want {
			t.Errorf("Detect(%s) = %s, %v; want %s", code, got, err, want)
		}
	}
	for _, code := range []string{"", "174567890123456789", "13456789012345678", "1345678901234567890", "2412345678901234",
		"281234567890123", "621234567890123456", "62123456789012345678", "13456789012345678x", "３4567890123456789"} {
		_, err := Detect(code)
		if !errors.Is(err, ErrUnrecognised) {
			t.Errorf("Detect(%q) = %v, want unrecognised", code, err)
		}
		if len(code) > 8 && strings.Contains(err.Error(), code) {
			t.Errorf("the error shows the whole code: %v", err)
		}
	}
}
