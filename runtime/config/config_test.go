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
	procs := map[string]string{}
	for _, p := range c.Plugins {
		procs[p.Name] = p.Process
	}
	want := map[string]string{"pinpad": "devices", "printer": "devices", "scanner": "devices", "acquirer": "hosts",
		"wechat": "hosts", "alipay": "hosts", "unionpay-qr": "hosts"}
	for name, proc := range want {
		if procs[name] != proc {
			t.Errorf("plugin %q has process %q, want %q", name, procs[name], proc)
		}
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
		"bad limit":     {`memory_limit = "26MiB"`, `memory_limit = "lots"`, "runtime.memory_limit"},
		"tiny limit":    {`memory_limit = "26MiB"`, `memory_limit = "1MiB"`, "below the 8MiB"},
		"tiny plugins":  {`plugin_memory_limit = "12MiB"`, `plugin_memory_limit = "1MiB"`, "below the 4MiB"},
		"mixed process": {`builtin = "fake-printer"`, "path = \"/opt/printer\"\nsha256 = \"ab\"", `plugins "pinpad" and "printer" share process "devices" but one is built in`},
		"bad process":   {`process = "hosts"`, `process = "the hosts"`, "letters, digits"},
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

func TestMemoryLimit(t *testing.T) {
	for s, want := range map[string]Bytes{"48MiB": 48 << 20, "64MB": 64e6, "1GiB": 1 << 30, "100000000": 1e8, "512 KiB": 512 << 10} {
		if got, err := ParseBytes(s); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "48M", "-1MiB", "1.5GiB", "99999999999999999999GiB", "99999999999GiB"} {
		if got, err := ParseBytes(s); err == nil {
			t.Errorf("ParseBytes(%q) = %d, want an error", s, got)
		}
	}
	cfg, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := cfg.Runtime.MemoryLimitBytes(); n != 26<<20 || err != nil {
		t.Errorf("default profile: memory limit %d, %v; want 26MiB", n, err)
	}
	if n, err := cfg.Runtime.PluginMemoryLimitBytes(); n != 12<<20 || err != nil {
		t.Errorf("default profile: plugin memory limit %d, %v; want 12MiB", n, err)
	}
	path := filepath.Join(t.TempDir(), "posrt.toml")
	base, _ := os.ReadFile("default.toml")
	os.WriteFile(path, []byte(strings.Replace(string(base), `memory_limit = "26MiB"`, `memory_limit = "48MiB"`, 1)), 0o600)
	if cfg, err = Load(path); err != nil {
		t.Fatal(err)
	}
	if n, err := cfg.Runtime.MemoryLimitBytes(); n != 48<<20 || err != nil {
		t.Errorf("memory_limit = \"48MiB\": %d, %v", n, err)
	}
}
