package runtimetest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/posrt/posrt/runtime/config"
)

// WriteProfile writes the embedded profile of fakes (config.LoadFakes:
// the default profile with the fake hosts, whose fault keys tests set),
// with plugin
// configuration keys changed by changes (plugin name -> key -> value; an
// empty value removes the key), to a posrt.toml in a temporary directory
// and returns its path.
func WriteProfile(t testing.TB, changes map[string]map[string]string) string {
	t.Helper()
	cfg, err := config.LoadFakes()
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range cfg.Plugins {
		for k, v := range changes[p.Name] {
			if cfg.Plugins[i].Config == nil {
				cfg.Plugins[i].Config = map[string]string{}
			}
			if v == "" {
				delete(cfg.Plugins[i].Config, k)
			} else {
				cfg.Plugins[i].Config[k] = v
			}
		}
	}
	path := filepath.Join(t.TempDir(), "posrt.toml")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := toml.NewEncoder(f).Encode(cfg); err != nil {
		t.Fatal(err)
	}
	return path
}
