package unionpayqr_test

import (
	"testing"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/channelstest"
	upqrsim "github.com/posrt/posrt/plugins/channels/sim/unionpayqr"
	"github.com/posrt/posrt/plugins/channels/unionpayqr"
)

func TestConformance(t *testing.T) {
	sim, _ := startSim(t, func(c *upqrsim.Config) {
		c.Faults = []upqrsim.Fault{{Kind: upqrsim.FaultNoAnswer, Amount: loseAmount, TxnType: unionpayqr.TxnPay}}
	})
	channelstest.RunWalletConformance(t, channelstest.WalletHarness{
		New:              func(*testing.T) channels.Wallet { return unionpayqr.New() },
		Config:           pluginConfig(t, sim, nil),
		AuthCode:         authCode,
		ForeignCode:      "134567890123456789",
		UserPayingAmount: userPayingAmount,
		LoseAmount:       loseAmount,
	})
}
