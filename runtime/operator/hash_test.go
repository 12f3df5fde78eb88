package operator

import (
	"encoding/hex"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

// Known answers of argon2id version 0x13 from the reference
// implementation's test suite (P-H-C/phc-winner-argon2, src/test.c,
// "Test Argon2id version number: 13"): password "password" unless said,
// a 32-byte tag, hex and PHC encoding as published there.
var argon2idVectors = []struct {
	t, m, p  uint32 // m is log2 of KiB, as in test.c
	password string
	salt     string
	hex      string
	phc      string
}{
	{2, 8, 1, "password", "somesalt",
		"9dfeb910e80bad0311fee20f9c0e2b12c17987b4cac90c2ef54d5b3021c68bfe",
		"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
	{2, 8, 2, "password", "somesalt",
		"6d093c501fd5999645e0ea3bf620d7b8be7fd2db59c20d9fff9539da2bf57037",
		"$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"},
	{2, 16, 1, "password", "somesalt",
		"09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7",
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"},
	{2, 16, 1, "differentpassword", "somesalt",
		"0b84d652cf6b0c4beaef0dfe278ba6a80df6696281d7e0d2891b817d8c458fde",
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$C4TWUs9rDEvq7w3+J4umqA32aWKB1+DSiRuBfYxFj94"},
}

func TestArgon2idKnownAnswers(t *testing.T) {
	for _, v := range argon2idVectors {
		p := Params{Memory: 1 << v.m, Time: v.t, Threads: uint8(v.p), SaltLen: uint32(len(v.salt)), KeyLen: 32}
		key := argon2.IDKey([]byte(v.password), []byte(v.salt), p.Time, p.Memory, p.Threads, p.KeyLen)
		if got := hex.EncodeToString(key); got != v.hex {
			t.Errorf("%s: tag %s, want %s", v.phc, got, v.hex)
		}
		if got := encodeHash(p, []byte(v.salt), key); got != v.phc {
			t.Errorf("encoding: %s, want %s", got, v.phc)
		}
		ok, dp, err := verifyPassword(v.phc, v.password)
		if err != nil || !ok || dp != p {
			t.Errorf("verifying %s: %v, %+v, %v", v.phc, ok, dp, err)
		}
		if v.m > 8 {
			continue // the 64 MiB vectors are slow under -race
		}
		if ok, _, _ := verifyPassword(v.phc, v.password+"x"); ok {
			t.Errorf("%s verifies a wrong password", v.phc)
		}
	}
}

func TestDecodeHashRefusesMalformed(t *testing.T) {
	good := argon2idVectors[0].phc
	for _, bad := range []string{
		"",
		"123456",
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "m=256,t=2,p=1", "m=256,t=2", 1),
		strings.Replace(good, "m=256,t=2,p=1", "m=256,t=0,p=1", 1),
		strings.Replace(good, "m=256,t=2,p=1", "m=4,t=2,p=1", 1),
		strings.Replace(good, "m=256,t=2,p=1", "m=256,t=2,p=1,x=3", 1),
		strings.Replace(good, "c29tZXNhbHQ", "c29tZXNhbHQ=", 1),
		strings.Replace(good, "c29tZXNhbHQ", "c29t", 1), // 3-byte salt
		good + "$",
	} {
		if _, _, _, err := decodeHash(bad); err == nil {
			t.Errorf("decodeHash(%q) accepted", bad)
		}
	}
}

func TestHashPasswordSaltsAndVerifies(t *testing.T) {
	a, err := hashPassword(cheap, "4829")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := hashPassword(cheap, "4829")
	if a == b {
		t.Error("two hashes of one password are equal")
	}
	if ok, _, err := verifyPassword(a, "4829"); !ok || err != nil {
		t.Errorf("verify: %v %v", ok, err)
	}
	if ok, _, _ := verifyPassword(a, "4828"); ok {
		t.Error("a wrong password verified")
	}
}

// BenchmarkLogin is one login of a cashier with DefaultParams, the cost a
// cashier waits for at the terminal.
func BenchmarkLogin(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Login(ctx, "01", "0000"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/login")
}
