package wechat_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/channelstest"
	wxsim "github.com/posrt/posrt/plugins/channels/sim/wechat"
	"github.com/posrt/posrt/plugins/channels/wechat"
)

// The merchant of WeChat's published signing example.
const (
	testAppID = "wxd930ea5d5a258f4f"
	testMchID = "10000100"
	testKey   = "192006250b4c09247ec02edce69f6a2d"
)

const (
	userPayingAmount = 2222
	loseAmount       = 3333
)

var testMerchant = wxsim.Merchant{AppID: testAppID, MchID: testMchID, Key: testKey}

// startSim starts a simulator on loopback with its ledger in a temporary
// directory, closed when t ends.
func startSim(t testing.TB, mutate func(*wxsim.Config)) (*wxsim.Server, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wechat", "ledger.jsonl")
	cfg := wxsim.Config{Merchants: []wxsim.Merchant{testMerchant}, Ledger: path, UserPaying: []int64{userPayingAmount}}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := wxsim.Serve(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

func pluginConfig(sim *wxsim.Server, extra map[string]string) map[string]string {
	cfg := map[string]string{"gateway": sim.Addr(), "appid": testAppID, "mch_id": testMchID, "key": testKey, "timeout": "5s"}
	for k, v := range extra {
		cfg[k] = v
	}
	return cfg
}

// connect serves a fresh plugin over real go-plugin gRPC, configured for
// sim (plus extra keys).
func connect(t testing.TB, sim *wxsim.Server, extra map[string]string) channels.Wallet {
	t.Helper()
	w := channelstest.ConnectWallet(t, wechat.New())
	if err := w.Configure(context.Background(), channels.WalletAPIVersion1, pluginConfig(sim, extra)); err != nil {
		t.Fatal(err)
	}
	return w
}

func authCode(i int) string { return fmt.Sprintf("13%016d", 7000000000000000+i) }

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
