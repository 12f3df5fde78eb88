package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultProfile(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if c.Terminal.TID != "12345678" || c.ECR.Addr != "127.0.0.1:8321" || len(c.Plugins) != 7 {
		t.Fatalf("default = %+v", c)
	}
	if c.PluginOf("acquirer") != "acquirer" {
		t.Fatal("no acquirer")
	}
}

func TestBadConfigurations(t *testing.T) {
	base, _ := os.ReadFile("default.toml")
	cases := map[string]struct{ from, to, want string }{
		"short tid":     {`tid = "12345678"`, `tid = "1234"`, "terminal.tid"},
		"unknown key":   {`[ecr]`, "[ecr]\nport = 1", "unknown keys ecr.port"},
		"no checksum":   {`builtin = "fake-pinpad"`, `path = "/opt/pinpad"`, "needs its sha256"},
		"two printers":  {`kind = "pinpad"`, `kind = "printer"`, "exactly one printer plugin"},
		"bad timeout":   {`builtin = "fake-scanner"`, "builtin = \"fake-scanner\"\ncall_timeout = \"soon\"", "call_timeout"},
		"not toml":      {`[terminal]`, `[terminal`, "default.toml"},
		"both path+blt": {`builtin = "fake-pinpad"`, "builtin = \"fake-pinpad\"\npath = \"/x\"", "both builtin and path"},
		"bad medium":    {`medium = "wechat"`, `medium = "paypal"`, "needs medium"},
		"two wechats":   {`medium = "alipay"`, `medium = "wechat"`, "a second plugin for wechat"},
		"unknown kind":  {`kind = "scanner"`, `kind = "modem"`, "unknown kind"},
		"bad backoff":   {`retry_backoff = "5s"`, `retry_backoff = "often"`, "resolve.retry_backoff"},
		"short token":   {`[ecr]`, "[ecr]\ntoken = \"abc\"", "at least 16"},
	}
	for name, c := range cases {
		src := strings.Replace(string(base), c.from, c.to, 1)
		path := filepath.Join(t.TempDir(), "default.toml")
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want mention of %q", name, err, c.want)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.toml")); err == nil {
		t.Error("missing file accepted")
	}
}
