package cardcrypto

import (
	"bytes"
	"crypto/des"
	"encoding/hex"
	"errors"
	"testing"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The clear format 0 block for PIN 1234 and PAN 4111111111111111 is
// 041234FFFFFFFFFF XOR 0000111111111111 = 041225EEEEEEEEEE (ISO 9564-1 example shape).
func TestPINBlockFormat0ClearValue(t *testing.T) {
	key := mustHex(t, "0123456789ABCDEFFEDCBA9876543210")
	enc, err := PINBlock(key, "1234", "4111111111111111")
	if err != nil {
		t.Fatal(err)
	}
	clear, err := Decrypt(key, enc)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(clear), "041225eeeeeeeeee"; got != want {
		t.Fatalf("clear PIN block = %s, want %s", got, want)
	}
	pin, err := PIN(key, enc, "4111111111111111")
	if err != nil || pin != "1234" {
		t.Fatalf("PIN = %q, %v", pin, err)
	}
	if _, err := PIN(NewKey(), enc, "4111111111111111"); err == nil {
		t.Fatal("PIN under the wrong key decoded without error")
	}
}

// Known-answer: the 3DES check value of 0123456789ABCDEFFEDCBA9876543210 is 08D7B4FB.
func TestCheckValueKnownAnswer(t *testing.T) {
	kcv, err := CheckValue(mustHex(t, "0123456789ABCDEFFEDCBA9876543210"))
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(kcv); got != "08d7b4fb" {
		t.Fatalf("KCV = %s", got)
	}
}

func TestWrapUnwrap(t *testing.T) {
	master, key := NewKey(), NewKey()
	enc, kcv, err := Wrap(master, key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unwrap(master, enc, kcv)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("Unwrap = %x, %v", got, err)
	}
	if _, err := Unwrap(NewKey(), enc, kcv); !errors.Is(err, ErrCheckValue) {
		t.Fatalf("Unwrap under another master: %v, want ErrCheckValue", err)
	}
}

func TestTrackRoundTrip(t *testing.T) {
	key := NewKey()
	enc, err := EncryptTrack(key, "6222020200110128=30122201234567890")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(enc, []byte("6222")) {
		t.Fatal("encrypted track contains clear PAN digits")
	}
	track, err := DecryptTrack(key, enc)
	if err != nil {
		t.Fatal(err)
	}
	pan, exp, err := ParseTrack(track)
	if err != nil || pan != "6222020200110128" || exp != "3012" {
		t.Fatalf("ParseTrack = %q %q %v", pan, exp, err)
	}
	if m := MaskPAN(pan); m != "622202******0128" {
		t.Fatalf("MaskPAN = %q", m)
	}
}

// MAC's last step is 3DES: the same as single-DES CBC over all blocks but
// the last, then the last block encrypted with 3DES (K1 K2 K1).
func TestMACIsX919(t *testing.T) {
	key, _ := hex.DecodeString("0123456789ABCDEFFEDCBA9876543210")
	data := []byte("Now is the time for all ")
	got, err := MAC(key, data)
	if err != nil {
		t.Fatal(err)
	}
	k1, _ := des.NewCipher(key[:8])
	h := make([]byte, 8)
	for i := 0; i < len(data)-8; i += 8 {
		h = xor(h, data[i:i+8])
		k1.Encrypt(h, h)
	}
	want, _ := Encrypt(key, xor(h, data[len(data)-8:]))
	if !bytes.Equal(got, want) {
		t.Fatalf("MAC = %X, want %X", got, want)
	}
	if other, _ := MAC(key, []byte("Now is the time for all!")); bytes.Equal(other, got) {
		t.Fatal("a changed byte gave the same MAC")
	}
}

// Known answers from ISO/IEC 9797-1:2011 Annex B.4 (MAC algorithm 3, padding
// method 1, K = 0123456789ABCDEF, K' = FEDCBA9876543210), as published in the
// RustCrypto retail-mac 0.1.0 documentation (docs.rs/retail-mac) and in Leon
// Lynch's crypto_tdes2_retail_mac_test.c (first four bytes). The second
// message is 22 bytes, so it checks the zero padding as well.
func TestMACKnownAnswerISO9797Annex(t *testing.T) {
	key := mustHex(t, "0123456789ABCDEFFEDCBA9876543210")
	for _, tc := range []struct{ data, mac string }{
		{"Now is the time for all ", "a1c72e74ea3fa9b6"},
		{"Now is the time for it", "2e2b1428cc78254f"},
	} {
		got, err := MAC(key, []byte(tc.data))
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != tc.mac {
			t.Errorf("MAC(%q) = %x, want %s", tc.data, got, tc.mac)
		}
	}
}
