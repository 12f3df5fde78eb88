package wechat_test

import (
	"testing"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/channelstest"
	wxsim "github.com/posrt/posrt/plugins/channels/sim/wechat"
	"github.com/posrt/posrt/plugins/channels/wechat"
)

func TestConformance(t *testing.T) {
	for _, st := range []wechat.SignType{wechat.SignMD5, wechat.SignHMACSHA256} {
		t.Run(string(st), func(t *testing.T) {
			sim, _ := startSim(t, func(c *wxsim.Config) {
				c.Faults = []wxsim.Fault{{Kind: wxsim.FaultNoAnswer, Amount: loseAmount, Path: wechat.PathMicropay}}
			})
			channelstest.RunWalletConformance(t, channelstest.WalletHarness{
				New:              func(*testing.T) channels.Wallet { return wechat.New() },
				Config:           pluginConfig(sim, map[string]string{"sign_type": string(st)}),
				AuthCode:         authCode,
				ForeignCode:      "286000000000000001",
				UserPayingAmount: userPayingAmount,
				LoseAmount:       loseAmount,
			})
		})
	}
}
