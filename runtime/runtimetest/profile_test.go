package runtimetest

import (
	"testing"

	"github.com/posrt/posrt/runtime/config"
)

func TestWriteProfileRoundTrips(t *testing.T) {
	path := WriteProfile(t, map[string]map[string]string{
		"acquirer": {"latency": "2s", "ledger": ""},
		"pinpad":   {"pin": "wrong"},
	})
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	def, _ := config.LoadFakes()
	if cfg.Terminal != def.Terminal || len(cfg.Plugins) != len(def.Plugins) {
		t.Fatalf("profile = %+v, want the default's terminal and plugins", cfg)
	}
	for _, p := range cfg.Plugins {
		switch p.Name {
		case "acquirer":
			if p.Config["latency"] != "2s" || p.Config["ledger"] != "" {
				t.Errorf("acquirer config = %v", p.Config)
			}
		case "pinpad":
			if p.Config["pin"] != "wrong" {
				t.Errorf("pinpad config = %v", p.Config)
			}
		case "printer":
			if p.Config["output"] != "{data}/receipts.txt" {
				t.Errorf("printer config changed: %v", p.Config)
			}
		}
	}
}
