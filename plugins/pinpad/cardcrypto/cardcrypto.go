package cardcrypto

import (
	"bytes"
	"crypto/cipher"
	"crypto/des"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size of a double-length 3DES key.
const KeySize = 16

// ErrCheckValue is returned when a key does not match its check value.
var ErrCheckValue = errors.New("key check value mismatch")

func block(key []byte) (cipher.Block, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("3DES key must be %d bytes, got %d", KeySize, len(key))
	}
	k := make([]byte, 24) // K1 K2 K1
	copy(k, key)
	copy(k[16:], key[:8])
	return des.NewTripleDESCipher(k)
}

// Encrypt encrypts data, a multiple of 8 bytes, with key in ECB mode.
func Encrypt(key, data []byte) ([]byte, error) {
	return ecb(key, data, true)
}

// Decrypt decrypts data, a multiple of 8 bytes, with key in ECB mode.
func Decrypt(key, data []byte) ([]byte, error) {
	return ecb(key, data, false)
}

func ecb(key, data []byte, encrypt bool) ([]byte, error) {
	b, err := block(key)
	if err != nil {
		return nil, err
	}
	if len(data)%8 != 0 {
		return nil, fmt.Errorf("3DES data must be a multiple of 8 bytes, got %d", len(data))
	}
	out := make([]byte, len(data))
	for i := 0; i < len(data); i += 8 {
		if encrypt {
			b.Encrypt(out[i:i+8], data[i:i+8])
		} else {
			b.Decrypt(out[i:i+8], data[i:i+8])
		}
	}
	return out, nil
}

// CheckValue is the first 4 bytes of eight zero bytes encrypted under key.
func CheckValue(key []byte) ([]byte, error) {
	z, err := Encrypt(key, make([]byte, 8))
	if err != nil {
		return nil, err
	}
	return z[:4], nil
}

// VerifyCheckValue checks a clear key of KeySize bytes against a check
// value a key custodian gives with it: the first three or four bytes of
// CheckValue. A wrong key or check value is ErrCheckValue.
func VerifyCheckValue(key, checkValue []byte) error {
	if len(key) != KeySize {
		return fmt.Errorf("%w: the key is %d bytes, not %d", ErrCheckValue, len(key), KeySize)
	}
	want, err := CheckValue(key)
	if err != nil {
		return err
	}
	if len(checkValue) < 3 || len(checkValue) > len(want) || subtle.ConstantTimeCompare(want[:len(checkValue)], checkValue) != 1 {
		return ErrCheckValue
	}
	return nil
}

// NewKey returns a fresh random double-length key.
func NewKey() []byte {
	k := make([]byte, KeySize)
	_, _ = rand.Read(k)
	return k
}

// Wrap encrypts a working key under the master key and returns it with the
// working key's check value.
func Wrap(master, key []byte) (encrypted, checkValue []byte, err error) {
	if encrypted, err = Encrypt(master, key); err != nil {
		return nil, nil, err
	}
	if checkValue, err = CheckValue(key); err != nil {
		return nil, nil, err
	}
	return encrypted, checkValue, nil
}

// Unwrap decrypts a working key with the master key and verifies its check value.
func Unwrap(master, encrypted, checkValue []byte) ([]byte, error) {
	key, err := Decrypt(master, encrypted)
	if err != nil {
		return nil, err
	}
	kcv, err := CheckValue(key)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(kcv, checkValue) {
		return nil, ErrCheckValue
	}
	return key, nil
}

// PINBlock builds an ISO 9564 format 0 PIN block for pin and pan and
// encrypts it under pinKey.
func PINBlock(pinKey []byte, pin, pan string) ([]byte, error) {
	if len(pin) < 4 || len(pin) > 12 || strings.Trim(pin, "0123456789") != "" {
		return nil, errors.New("PIN must be 4 to 12 digits")
	}
	pinField := fmt.Sprintf("0%X%s", len(pin), pin)
	pinField += strings.Repeat("F", 16-len(pinField))
	panField, err := panField(pan)
	if err != nil {
		return nil, err
	}
	clear := xor(hexNibbles(pinField), hexNibbles(panField))
	return Encrypt(pinKey, clear)
}

// PIN recovers the PIN from an encrypted ISO 9564 format 0 block.
func PIN(pinKey, encrypted []byte, pan string) (string, error) {
	if len(encrypted) != 8 {
		return "", fmt.Errorf("PIN block must be 8 bytes, got %d", len(encrypted))
	}
	clear, err := Decrypt(pinKey, encrypted)
	if err != nil {
		return "", err
	}
	panField, err := panField(pan)
	if err != nil {
		return "", err
	}
	field := fmt.Sprintf("%X", xor(clear, hexNibbles(panField)))
	if field[0] != '0' {
		return "", errors.New("not a format 0 PIN block")
	}
	n := int(field[1] - '0') // length nibble
	if field[1] >= 'A' {
		n = int(field[1]-'A') + 10
	}
	if n < 4 || n > 12 || strings.Trim(field[2:2+n], "0123456789") != "" || strings.Trim(field[2+n:], "F") != "" {
		return "", errors.New("malformed PIN block (wrong PIN key or PAN)")
	}
	return field[2 : 2+n], nil
}

// panField is 0000 followed by the 12 rightmost PAN digits excluding the check digit.
func panField(pan string) (string, error) {
	if len(pan) < 13 || strings.Trim(pan, "0123456789") != "" {
		return "", errors.New("PAN must be at least 13 digits")
	}
	return "0000" + pan[len(pan)-13:len(pan)-1], nil
}

// EncryptTrack encrypts track 2 equivalent data ("PAN=YYMM...") under the
// track key, padded with 0xFF to a multiple of 8 bytes.
func EncryptTrack(trackKey []byte, track string) ([]byte, error) {
	data := []byte(track)
	for len(data)%8 != 0 {
		data = append(data, 0xFF)
	}
	return Encrypt(trackKey, data)
}

// DecryptTrack reverses EncryptTrack.
func DecryptTrack(trackKey, encrypted []byte) (string, error) {
	data, err := Decrypt(trackKey, encrypted)
	if err != nil {
		return "", err
	}
	return string(bytes.TrimRight(data, "\xff")), nil
}

// ParseTrack splits track 2 equivalent data into PAN and expiry (YYMM).
func ParseTrack(track string) (pan, expiry string, err error) {
	pan, rest, ok := strings.Cut(track, "=")
	if !ok || len(rest) < 4 || len(pan) < 13 || strings.Trim(pan, "0123456789") != "" {
		return "", "", errors.New("malformed track data (wrong track key?)")
	}
	return pan, rest[:4], nil
}

// MaskPAN keeps the first 6 and last 4 digits of a PAN.
func MaskPAN(pan string) string {
	if len(pan) < 10 {
		return strings.Repeat("*", len(pan))
	}
	return pan[:6] + strings.Repeat("*", len(pan)-10) + pan[len(pan)-4:]
}

func hexNibbles(s string) []byte {
	out := make([]byte, len(s)/2)
	for i := range out {
		out[i] = nibble(s[2*i])<<4 | nibble(s[2*i+1])
	}
	return out
}

func nibble(c byte) byte {
	if c >= 'A' {
		return c - 'A' + 10
	}
	return c - '0'
}

func xor(a, b []byte) []byte {
	out := make([]byte, len(a))
	for i := range a {
		out[i] = a[i] ^ b[i]
	}
	return out
}

// MACSize is the size of a MAC as MAC returns it.
const MACSize = 8

// MAC is the ANSI X9.19 retail MAC (ISO 9797-1 MAC algorithm 3, padding
// method 1) of data under the double-length key: single-DES CBC under the
// left half over every block, the last block finished as 3DES (decrypt
// under the right half, encrypt under the left). An empty message is one
// block of zeros.
func MAC(key, data []byte) ([]byte, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("MAC key must be %d bytes, got %d", KeySize, len(key))
	}
	left, err := des.NewCipher(key[:8])
	if err != nil {
		return nil, err
	}
	right, err := des.NewCipher(key[8:])
	if err != nil {
		return nil, err
	}
	padded := make([]byte, (len(data)+7)/8*8)
	if len(padded) == 0 {
		padded = make([]byte, 8)
	}
	copy(padded, data)
	h := make([]byte, 8)
	for i := 0; i < len(padded); i += 8 {
		copy(h, xor(h, padded[i:i+8]))
		left.Encrypt(h, h)
	}
	right.Decrypt(h, h)
	left.Encrypt(h, h)
	return h, nil
}

// ECBMAC is the UnionPay POS "ECB" MAC many CUP terminals use, of data
// under key (8 bytes: single DES; 16 bytes: 3DES K1 K2 K1). The data, zero
// padded to a multiple of 8 bytes, is XORed block by block into one block R;
// R is expanded to 16 upper-case hex characters; the first 8 characters are
// encrypted, the result XORed with the last 8 characters and encrypted
// again; that block is expanded to hex too, and its first 8 characters are
// the MAC (MACSize ASCII bytes, as field 64 carries them).
func ECBMAC(key, data []byte) ([]byte, error) {
	var b cipher.Block
	var err error
	switch len(key) {
	case 8:
		b, err = des.NewCipher(key)
	case KeySize:
		b, err = block(key)
	default:
		return nil, fmt.Errorf("ECB MAC key must be 8 or %d bytes, got %d", KeySize, len(key))
	}
	if err != nil {
		return nil, fmt.Errorf("making the ECB MAC cipher: %w", err)
	}
	r := make([]byte, 8)
	for i := 0; i < len(data); i += 8 {
		for j := 0; j < 8 && i+j < len(data); j++ {
			r[j] ^= data[i+j]
		}
	}
	expanded := []byte(fmt.Sprintf("%X", r))
	h := make([]byte, 8)
	b.Encrypt(h, expanded[:8])
	copy(h, xor(h, expanded[8:]))
	b.Encrypt(h, h)
	return []byte(fmt.Sprintf("%X", h[:4])), nil
}
