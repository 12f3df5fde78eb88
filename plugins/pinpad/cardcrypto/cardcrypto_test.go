package cardcrypto

import (
	"bytes"
	"crypto/des"
	"encoding/hex"
	"errors"
	"strings"
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

// Known answer for the UnionPay ECB MAC from a published CUP POS frame
// (q.cnblogs.com/q/128930, "POS机MAC算法验证不过", 2020): a 0200 frame of
// 127 bytes after its length prefix (TPDU 6000030000, header 603210320072),
// whose field 64 carries the host-accepted MAC "B3A092AE" under the
// double-length MAC key 0723C80DB5F4CD3D0723C80DB5F4CD3D. The MAC covers
// the message from the MTI up to field 64.
func TestECBMACKnownAnswerPublishedFrame(t *testing.T) {
	key := mustHex(t, "0723C80DB5F4CD3D0723C80DB5F4CD3D")
	mab := mustHex(t, "0200302004"+"8000c08015"+"000000"+"000000001234"+"000002"+"0300"+"99"+
		"3030303030303031"+"393532373138313832323137383735"+"313536"+
		"0019"+"26000001000600000000"+
		"0043"+"5f0112323834343132333435363738393031323334"+"5f0306313630303336"+"5f0406323030383236"+"5c023031")
	got, err := ECBMAC(key, mab)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "B3A092AE" {
		t.Fatalf("ECBMAC = %q, want B3A092AE", got)
	}
	mab[len(mab)-1] ^= 1
	if other, _ := ECBMAC(key, mab); bytes.Equal(other, got) {
		t.Fatal("a changed byte gave the same ECB MAC")
	}
}

// The steps of the ECB MAC checked one by one against the published
// walk-through of blog.youkuaiyun.com/zhu244912654/article/details/80005341
// ("MAC算法演示", single-length TAK C24A8FB57AA20123): its first XORs
// (M1^M2 = 9A11302004C020C0, ^M3 = 9A1161201CF422D0, ^M4 = 9A1753638ED222D9),
// then the rest of the algorithm by single DES from crypto/des.
func TestECBMACSteps(t *testing.T) {
	data := mustHex(t, "0200302004C020C0981100000000000000005100183402100006324392260009942820D1312101120084393136363838303134303030303030303030303030303031313536ACF46E73838A82F92600000000000000000822000001")
	key := mustHex(t, "C24A8FB57AA20123")
	r := make([]byte, 8)
	for i, want := range []string{"0200302004C020C0", "9A11302004C020C0", "9A1161201CF422D0", "9A1753638ED222D9"} {
		r = xor(r, data[8*i:8*i+8])
		if got := hex.EncodeToString(r); got != strings.ToLower(want) {
			t.Fatalf("XOR after block %d = %s, want %s", i+1, got, want)
		}
	}
	padded := append(append([]byte{}, data...), make([]byte, (8-len(data)%8)%8)...)
	for i := 32; i < len(padded); i += 8 {
		r = xor(r, padded[i:i+8])
	}
	expanded := []byte(strings.ToUpper(hex.EncodeToString(r)))
	c, _ := des.NewCipher(key)
	h := make([]byte, 8)
	c.Encrypt(h, expanded[:8])
	h = xor(h, expanded[8:])
	c.Encrypt(h, h)
	want := strings.ToUpper(hex.EncodeToString(h))[:8]
	got, err := ECBMAC(key, data)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("ECBMAC = %s, want %s", got, want)
	}
	if _, err := ECBMAC(key[:7], data); err == nil {
		t.Fatal("a 7-byte key was accepted")
	}
}
