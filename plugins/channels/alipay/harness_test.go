package alipay_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/alipay"
	"github.com/posrt/posrt/plugins/channels/channelstest"
	alisim "github.com/posrt/posrt/plugins/channels/sim/alipay"
)

const testAppID = "2014072300007148"

const (
	userPayingAmount = 2222
	loseAmount       = 3333
)

var (
	keysOnce            sync.Once
	merchantKey, simKey *rsa.PrivateKey
	keysErr             error
)

// keys are the merchant's and the gateway's pairs, made once a run.
func keys(t testing.TB) (merchant, gateway *rsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		if merchantKey, keysErr = rsa.GenerateKey(rand.Reader, 2048); keysErr == nil {
			simKey, keysErr = rsa.GenerateKey(rand.Reader, 2048)
		}
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return merchantKey, simKey
}

// startSim starts a simulator on loopback with its ledger in a temporary
// directory, closed when t ends.
func startSim(t testing.TB, mutate func(*alisim.Config)) (*alisim.Server, string) {
	t.Helper()
	mk, gk := keys(t)
	path := filepath.Join(t.TempDir(), "alipay", "ledger.jsonl")
	cfg := alisim.Config{AppID: testAppID, MerchantKey: &mk.PublicKey, Key: gk, Ledger: path, UserPaying: []int64{userPayingAmount}}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := alisim.Serve(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

// pluginConfig writes the key files and returns the plugin's keys for sim
// (plus extra).
func pluginConfig(t testing.TB, sim *alisim.Server, extra map[string]string) map[string]string {
	t.Helper()
	mk, _ := keys(t)
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "app_private_key.pem"), filepath.Join(dir, "alipay_public_key.pem")
	if err := os.WriteFile(priv, alipay.EncodePrivateKey(mk), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, alipay.EncodePublicKey(sim.PublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]string{"gateway": sim.Addr(), "app_id": testAppID, "private_key_file": priv, "alipay_public_key_file": pub, "timeout": "5s"}
	for k, v := range extra {
		cfg[k] = v
	}
	return cfg
}

// connect serves a fresh plugin over real go-plugin gRPC, configured for
// sim (plus extra keys).
func connect(t testing.TB, sim *alisim.Server, extra map[string]string) channels.Wallet {
	t.Helper()
	w := channelstest.ConnectWallet(t, alipay.New())
	if err := w.Configure(context.Background(), channels.WalletAPIVersion1, pluginConfig(t, sim, extra)); err != nil {
		t.Fatal(err)
	}
	return w
}

func authCode(i int) string { return fmt.Sprintf("28%016d", 7000000000000000+i) }

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

// Health queries the gateway at most once a probe_every, however often
// posrt asks.
func TestHealthAnswersFromItsLastProbe(t *testing.T) {
	sim, _ := startSim(t, nil)
	channelstest.CheckHealthStands(t, connect(t, sim, nil), connect(t, sim, map[string]string{"probe_every": "1ns"}), func() { _ = sim.Close() }, channelstest.QueryAnOrder)
}
