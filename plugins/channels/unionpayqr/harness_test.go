package unionpayqr_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/channelstest"
	upqrsim "github.com/posrt/posrt/plugins/channels/sim/unionpayqr"
	"github.com/posrt/posrt/plugins/channels/unionpayqr"
)

const testMerID = "777290058110097"

const (
	userPayingAmount = 2222
	loseAmount       = 3333
)

// pki is the certificates of a run: the merchant's signing certificate
// and the gateway's root and signing certificate, made once.
type pki struct {
	merchant           *x509.Certificate
	merchantKey        *rsa.PrivateKey
	root, signing      *x509.Certificate
	rootKey, signerKey *rsa.PrivateKey
}

var (
	pkiOnce sync.Once
	thePKI  pki
	pkiErr  error
)

func certs(t testing.TB) pki {
	t.Helper()
	pkiOnce.Do(func() {
		now := time.Now()
		p := &thePKI
		if p.merchant, p.merchantKey, pkiErr = upqrsim.Issue("posrt test merchant", nil, nil, now); pkiErr != nil {
			return
		}
		if p.root, p.rootKey, pkiErr = upqrsim.Issue("posrt test root", nil, nil, now); pkiErr != nil {
			return
		}
		p.signing, p.signerKey, pkiErr = upqrsim.Issue("posrt test signing", p.root, p.rootKey, now)
	})
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return thePKI
}

// startSim starts a simulator on loopback with its ledger in a temporary
// directory, closed when t ends.
func startSim(t testing.TB, mutate func(*upqrsim.Config)) (*upqrsim.Server, string) {
	t.Helper()
	p := certs(t)
	path := filepath.Join(t.TempDir(), "unionpayqr", "ledger.jsonl")
	cfg := upqrsim.Config{MerID: testMerID, MerchantCert: p.merchant, Root: p.root, RootKey: p.rootKey, SigningCert: p.signing, SigningKey: p.signerKey,
		Ledger: path, UserPaying: []int64{userPayingAmount}}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := upqrsim.Serve(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

// pluginConfig writes the certificate and key files and returns the
// plugin's keys for sim (plus extra).
func pluginConfig(t testing.TB, sim *upqrsim.Server, extra map[string]string) map[string]string {
	t.Helper()
	p := certs(t)
	dir := t.TempDir()
	cert, key, root := filepath.Join(dir, "sign_cert.pem"), filepath.Join(dir, "sign_key.pem"), filepath.Join(dir, "root.pem")
	for name, b := range map[string][]byte{cert: unionpayqr.EncodeCertificate(p.merchant), key: unionpayqr.EncodePrivateKey(p.merchantKey), root: unionpayqr.EncodeCertificate(sim.Root())} {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := map[string]string{"gateway": sim.Addr(), "mer_id": testMerID, "sign_cert_file": cert, "sign_key_file": key, "root_cert_file": root, "state_file": filepath.Join(dir, "state.jsonl"), "timeout": "5s"}
	for k, v := range extra {
		cfg[k] = v
	}
	return cfg
}

// connect serves a fresh plugin over real go-plugin gRPC, configured for
// sim (plus extra keys).
func connect(t testing.TB, sim *upqrsim.Server, extra map[string]string) channels.Wallet {
	t.Helper()
	w := channelstest.ConnectWallet(t, unionpayqr.New())
	if err := w.Configure(context.Background(), channels.WalletAPIVersion1, pluginConfig(t, sim, extra)); err != nil {
		t.Fatal(err)
	}
	return w
}

func authCode(i int) string { return fmt.Sprintf("62%017d", 70000000000000000+i) }

// terminal plays the terminal's side of the tests: keys and fresh codes.
type terminal struct {
	trace, codes int
}

func (tm *terminal) key() channels.Key {
	tm.trace++
	return channels.Key{TID: "10000001", MID: "898310048990001", Batch: "000001", Trace: fmt.Sprintf("%06d", tm.trace)}
}

func (tm *terminal) pay(amount int64) channels.PayRequest {
	tm.codes++
	k := tm.key()
	return channels.PayRequest{Key: k, OrderNo: k.OrderNo(), Amount: amount, AuthCode: authCode(1000 + tm.codes), Subject: "posrt test"}
}

// Each required key is refused by name when it is missing, state_file
// among them, and nothing is configured.
func TestRequiredKeys(t *testing.T) {
	sim, _ := startSim(t, nil)
	for _, key := range []string{"gateway", "mer_id", "sign_cert_file", "sign_key_file", "root_cert_file", "state_file"} {
		cfg := pluginConfig(t, sim, nil)
		delete(cfg, key)
		u := unionpayqr.New()
		err := u.Configure(context.Background(), channels.WalletAPIVersion1, cfg)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("Configure without %s = %v, want it refused naming the key", key, err)
		}
		if h, _ := u.Health(context.Background()); h.State != "offline" {
			t.Errorf("without %s: Health %+v, want offline (not configured)", key, h)
		}
	}
}

// Health queries the gateway at most once a probe_every, however often
// posrt asks.
func TestHealthAnswersFromItsLastProbe(t *testing.T) {
	sim, _ := startSim(t, nil)
	channelstest.CheckHealthStands(t, connect(t, sim, nil), connect(t, sim, map[string]string{"probe_every": "1ns"}), func() { _ = sim.Close() }, channelstest.QueryAnOrder)
}
