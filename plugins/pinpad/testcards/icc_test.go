package testcards

import (
	"errors"
	"testing"
)

func TestICCDataVerifiesAsTheIssuerWould(t *testing.T) {
	card := Cards[DefaultCard]
	icc := ICCData(card, 12345, 7)
	if err := CheckICCData(card.PAN, icc, 12345); err != nil {
		t.Fatalf("CheckICCData of the card's own data: %v", err)
	}
	tags, err := ParseTLV(icc)
	if err != nil {
		t.Fatal(err)
	}
	if got := tags["9F36"]; len(got) != 2 || got[1] != 7 {
		t.Errorf("ATC (9F36) %X, want 0007", got)
	}
	if err := CheckICCData(card.PAN, icc, 12346); err == nil {
		t.Error("ICC data for 123.45 accepted for 123.46")
	}
	forged := append([]byte(nil), icc...)
	forged[len(forged)-1] ^= 1
	if err := CheckICCData(card.PAN, forged, 12345); !errors.Is(err, ErrBadCryptogram) {
		t.Errorf("a forged cryptogram: %v, want ErrBadCryptogram", err)
	}
	if err := CheckICCData("6222020000000000000", icc, 12345); !errors.Is(err, ErrBadCryptogram) {
		t.Errorf("another card's data: %v, want ErrBadCryptogram", err)
	}
	if _, err := ParseTLV(icc[:len(icc)-3]); err == nil {
		t.Error("truncated ICC data parsed")
	}
}
