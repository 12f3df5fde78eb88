package boot

import (
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
	for _, s := range specs {
		if !s.Builtin || s.Path != "/usr/bin/posrt" || len(s.Args) != 3 || s.Args[0] != "plugin" || s.Args[1] != "serve" {
			t.Fatalf("built-in spec = %+v", s)
		}
		if s.Name == "acquirer" && s.Config["ledger"] != "/var/posrt/fake-acquirer-ledger.jsonl" {
			t.Fatalf("{data} not expanded: %v", s.Config)
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
