package boot

import (
	"strings"
	"testing"

	"github.com/posrt/posrt/runtime/config"
)

func TestSpecsOfTheDefaultProfile(t *testing.T) {
	c, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	specs := Specs(c, "/usr/bin/posrt", "/var/posrt")
	if len(specs) != 7 {
		t.Fatalf("%d specs", len(specs))
	}
	args := map[string]string{}
	for _, s := range specs {
		if !s.Builtin || s.Path != "/usr/bin/posrt" || len(s.Args) < 3 || s.Args[0] != "plugin" || s.Args[1] != "serve" {
			t.Fatalf("built-in spec = %+v", s)
		}
		args[s.Name] = strings.Join(s.Args[2:], " ")
		if s.Name == "acquirer" && s.Config["ledger"] != "/var/posrt/fake-acquirer-ledger.jsonl" {
			t.Fatalf("{data} not expanded: %v", s.Config)
		}
	}
	// One process per group: its members share one command line naming
	// each under its configured name.
	devices, wallets := "pinpad=fake-pinpad printer=fake-printer scanner=fake-scanner", "wechat=fake-wechat alipay=fake-alipay unionpay-qr=fake-unionpay-qr"
	want := map[string]string{"pinpad": devices, "printer": devices, "scanner": devices, "acquirer": "fake-acquirer",
		"wechat": wallets, "alipay": wallets, "unionpay-qr": wallets}
	for name, w := range want {
		if args[name] != w {
			t.Errorf("%s serves %q, want %q", name, args[name], w)
		}
	}
}

func TestVendorPluginPathIsRelativeToTheConfiguration(t *testing.T) {
	c := config.Config{Source: "/etc/posrt/posrt.toml", Plugins: []config.Plugin{{Name: "pp", Kind: "pinpad", Path: "vendor/pinpad", SHA256: "ab"}}}
	s := Specs(c, "/usr/bin/posrt", "/d")[0]
	if s.Builtin || s.Path != "/etc/posrt/vendor/pinpad" || s.SHA256 != "ab" {
		t.Fatalf("vendor spec = %+v", s)
	}
}
