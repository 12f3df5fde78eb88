package testcards

import (
	"errors"
	"fmt"
	"slices"

	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
)

// ChipSequenceNumber is the card sequence number (EMV 5F34) the test
// cards' chips give.
const ChipSequenceNumber = "001"

// iccKey is the simulated card's application cryptogram key.
var iccKey = []byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF}

// ICCData is the EMV data a chip card returns for an online sale, BER-TLV
// as field 55 carries it: amount (9F02), currency CNY (5F2A), transaction
// type (9C), ATC (9F36), AIP (82), TVR (95), unpredictable number (9F37),
// cryptogram information (9F27) and an ARQC (9F26), here an X9.19 MAC of
// the PAN and the rest under a test key standing in for the card's. atc is
// the card's application transaction counter, one more at each read.
func ICCData(card Card, amount uint64, atc uint16) []byte {
	tlv := func(tag []byte, v []byte) []byte { return append(append(slices.Clone(tag), byte(len(v))), v...) }
	un := []byte{byte(atc >> 8), byte(atc), 0x5A, 0xA5}
	var b []byte
	b = append(b, tlv([]byte{0x9F, 0x02}, bcd12(amount))...)
	b = append(b, tlv([]byte{0x5F, 0x2A}, []byte{0x01, 0x56})...)
	b = append(b, tlv([]byte{0x9C}, []byte{0x00})...)
	b = append(b, tlv([]byte{0x9F, 0x36}, []byte{byte(atc >> 8), byte(atc)})...)
	b = append(b, tlv([]byte{0x82}, []byte{0x7C, 0x00})...)
	b = append(b, tlv([]byte{0x95}, []byte{0, 0, 0, 0, 0})...)
	b = append(b, tlv([]byte{0x9F, 0x37}, un)...)
	b = append(b, tlv([]byte{0x9F, 0x27}, []byte{0x80})...)
	arqc, _ := cardcrypto.MAC(iccKey, append([]byte(card.PAN), b...))
	return append(b, tlv([]byte{0x9F, 0x26}, arqc)...)
}

// bcd12 is n as 12 BCD digits (6 bytes).
func bcd12(n uint64) []byte {
	s := fmt.Sprintf("%012d", n%1_000_000_000_000)
	out := make([]byte, 6)
	for i := range out {
		out[i] = (s[2*i]-'0')<<4 | (s[2*i+1] - '0')
	}
	return out
}

// ParseTLV reads the primitive BER-TLV objects of b (ICC data as ISO 8583
// field 55 carries it), tags in upper-case hex, with one-byte lengths (or
// 81 nn).
func ParseTLV(b []byte) (map[string][]byte, error) {
	out := map[string][]byte{}
	for len(b) > 0 {
		n := 1
		if b[0]&0x1F == 0x1F { // a tag of two bytes or more
			for n < len(b) && b[n]&0x80 != 0 {
				n++
			}
			n++
		}
		if n >= len(b) {
			return nil, fmt.Errorf("truncated tag at %X", b)
		}
		tag := fmt.Sprintf("%X", b[:n])
		b = b[n:]
		l, hl := int(b[0]), 1
		if b[0] == 0x81 && len(b) > 1 {
			l, hl = int(b[1]), 2
		} else if b[0] > 0x80 {
			return nil, fmt.Errorf("length form %#x of tag %s", b[0], tag)
		}
		if hl+l > len(b) {
			return nil, fmt.Errorf("tag %s: %d bytes, %d left", tag, l, len(b)-hl)
		}
		out[tag] = b[hl : hl+l]
		b = b[hl+l:]
	}
	return out, nil
}

// ErrBadCryptogram is CheckICCData's answer to ICC data whose cryptogram
// is not the card's.
var ErrBadCryptogram = errors.New("the application cryptogram (9F26) does not verify")

// CheckICCData checks ICC data as the card's issuer would: well formed,
// for amount (9F02), with the cryptogram (9F26) the card with pan computes
// over the rest. It does not check the counter's freshness.
func CheckICCData(pan string, icc []byte, amount uint64) error {
	tags, err := ParseTLV(icc)
	if err != nil {
		return err
	}
	if got := fmt.Sprintf("%X", tags["9F02"]); got != fmt.Sprintf("%012d", amount%1_000_000_000_000) {
		return fmt.Errorf("the ICC data's amount (9F02) is %s, not %d", got, amount)
	}
	arqc, ok := tags["9F26"]
	if !ok || len(icc) < 11 || !slices.Equal(icc[len(icc)-11:len(icc)-8], []byte{0x9F, 0x26, 0x08}) {
		return errors.New("the ICC data does not end with an 8-byte application cryptogram (9F26)")
	}
	want, err := cardcrypto.MAC(iccKey, append([]byte(pan), icc[:len(icc)-11]...))
	if err != nil || !slices.Equal(want, arqc) {
		return ErrBadCryptogram
	}
	return nil
}
