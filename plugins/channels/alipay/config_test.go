package alipay_test

import (
	"context"
	"errors"
	"testing"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/alipay"
)

// A configuration with a missing or unreadable key is refused and leaves
// the plugin as it was.
func TestConfigureRefusals(t *testing.T) {
	ctx := context.Background()
	sim, _ := startSim(t, nil)
	good := pluginConfig(t, sim, nil)
	w := alipay.New()
	if _, err := w.Pay(ctx, channels.PayRequest{OrderNo: "P1", Amount: 1, AuthCode: authCode(1)}); !errors.Is(err, channels.ErrNotSent) {
		t.Fatalf("Pay before Configure = %v, want ErrNotSent", err)
	}
	if err := w.Configure(ctx, channels.WalletAPIVersion1, good); err != nil {
		t.Fatal(err)
	}
	notKey := writeKey(t, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	for name, change := range map[string]map[string]string{
		"no gateway":         {"gateway": ""},
		"ftp gateway":        {"gateway": "ftp://example.com/gateway.do"},
		"no app_id":          {"app_id": ""},
		"no private key":     {"private_key_file": ""},
		"missing key file":   {"private_key_file": "/nonexistent/key.pem"},
		"garbled key":        {"private_key_file": notKey},
		"garbled public key": {"alipay_public_key_file": notKey},
		"bad timeout":        {"timeout": "-1s"},
		"unknown key":        {"sign_type": "RSA"},
	} {
		cfg := map[string]string{}
		for k, v := range good {
			cfg[k] = v
		}
		for k, v := range change {
			if v == "" {
				delete(cfg, k)
			} else {
				cfg[k] = v
			}
		}
		if err := w.Configure(ctx, channels.WalletAPIVersion1, cfg); err == nil {
			t.Errorf("%s: Configure accepted %v", name, cfg)
		}
	}
	if h, err := w.Health(ctx); err != nil || h.State != base.StateIdle {
		t.Errorf("Health after the refused configurations = %+v, %v; want the first one still in force", h, err)
	}
}
