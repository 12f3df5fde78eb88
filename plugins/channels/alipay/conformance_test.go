package alipay_test

import (
	"testing"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/alipay"
	"github.com/posrt/posrt/plugins/channels/channelstest"
	alisim "github.com/posrt/posrt/plugins/channels/sim/alipay"
)

func TestConformance(t *testing.T) {
	sim, _ := startSim(t, func(c *alisim.Config) {
		c.Faults = []alisim.Fault{{Kind: alisim.FaultNoAnswer, Amount: loseAmount, Method: alipay.MethodPay}}
	})
	channelstest.RunWalletConformance(t, channelstest.WalletHarness{
		New:              func(*testing.T) channels.Wallet { return alipay.New() },
		Config:           pluginConfig(t, sim, nil),
		AuthCode:         authCode,
		ForeignCode:      "134567890123456789",
		UserPayingAmount: userPayingAmount,
		LoseAmount:       loseAmount,
	})
}
