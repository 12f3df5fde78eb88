package bench

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// BenchmarkAutoMTLSCrypto prices the public-key work go-plugin's AutoMTLS
// does for every plugin it starts, on P-521 as go-plugin hard-codes it: a
// key pair and a self-signed certificate on each side (x509 checks each
// signature it makes: one sign and one verify per certificate), then a
// TLS 1.3 handshake in which each side signs and checks the other's
// signature. That is 2 key generations, 4 signatures and 4 verifications
// per plugin, reported as plugin-ms, beside process-ms: the P-521
// generator table each new process builds before its first key (the first
// key's time less a later key's, in a fresh process).
func BenchmarkAutoMTLSCrypto(b *testing.B) {
	out, err := exec.Command(os.Args[0], "-posrt-first-p521").Output()
	if err != nil {
		b.Fatal(err)
	}
	var table time.Duration
	if _, err := fmt.Sscan(string(out), &table); err != nil {
		b.Fatalf("reading %q: %v", out, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha512.Sum512([]byte("tbs"))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	var keygen, sign, verify time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := ecdsa.SignASN1(rand.Reader, key, digest[:]); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if !ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig) {
			b.Fatal("signature does not verify")
		}
		keygen, sign, verify = keygen+t1.Sub(t0), sign+t2.Sub(t1), verify+time.Since(t2)
	}
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / n }
	b.ReportMetric(ms(keygen), "keygen-ms")
	b.ReportMetric(ms(sign), "sign-ms")
	b.ReportMetric(ms(verify), "verify-ms")
	b.ReportMetric(2*ms(keygen)+4*ms(sign)+4*ms(verify), "plugin-ms")
	b.ReportMetric(float64(table.Microseconds())/1000, "process-ms")
}

// firstP521 prints, in nanoseconds, how much longer this process's first
// P-521 key takes than its second.
func firstP521() error {
	var took [2]time.Duration
	for i := range took {
		start := time.Now()
		if _, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader); err != nil {
			return err
		}
		took[i] = time.Since(start)
	}
	_, err := fmt.Println(int64(took[0] - took[1]))
	return err
}
