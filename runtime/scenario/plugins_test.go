package scenario

import (
	"context"
	"strings"
	"testing"

	"github.com/posrt/posrt/runtime/config"
)

// A file sets its terminal's fakes with plugins = {...}; a value that is
// not a plain one, or a plugin the profile lacks, is refused naming it.
func TestFilePluginSettings(t *testing.T) {
	ctx := context.Background()
	f, err := Parse(ctx, "p_test.lua", []byte(`return { plugins = { pinpad = { pin = "wrong" }, printer = { paper = 0 } },
  { name = "s", op = { kind = "sale", amount = 1 }, expect = { result = "declined" } } }`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Plugins["pinpad"]["pin"] != "wrong" || f.Plugins["printer"]["paper"] != "0" || len(f.Scenarios) != 1 {
		t.Fatalf("file %+v", f)
	}
	if _, err := Parse(ctx, "p_test.lua", []byte(`return { plugins = { pinpad = { pin = { 1 } } }, { name = "s", op = { kind = "sale", amount = 1 }, expect = { result = "declined" } } }`)); err == nil || !strings.Contains(err.Error(), "plugins.pinpad.pin") {
		t.Fatalf("a table as a value: %v", err)
	}
	cfg, err := config.LoadFakes()
	if err != nil {
		t.Fatal(err)
	}
	if err := configurePlugins(&cfg, File{Name: "p_test.lua", Plugins: map[string]map[string]string{"pin-pad": {"pin": "wrong"}}}); err == nil || !strings.Contains(err.Error(), `no plugin "pin-pad"`) {
		t.Fatalf("an unknown plugin: %v", err)
	}
	if err := configurePlugins(&cfg, f); err != nil || cfg.Plugins[0].Config["pin"] != "wrong" && cfg.Plugins[1].Config["pin"] != "wrong" {
		t.Fatalf("configured %+v, %v", cfg.Plugins, err)
	}
}
