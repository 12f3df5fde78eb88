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

// writeProfile writes the default profile with extra appended and, when
// from is set, its first from replaced by to.
func writeProfile(t *testing.T, extra, from, to string) string {
	t.Helper()
	base, err := os.ReadFile("default.toml")
	if err != nil {
		t.Fatal(err)
	}
	src := string(base)
	if from != "" {
		src = strings.Replace(src, from, to, 1)
	}
	path := filepath.Join(t.TempDir(), "posrt.toml")
	if err := os.WriteFile(path, []byte(src+extra), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestQRRuleFromTheConfiguration(t *testing.T) {
	c, err := Load(writeProfile(t, `
[[qr.rule]]
medium = "alipay"
pattern = '^31\d{14}$'
name = "Alipay+ partner: 16 digits starting 31"
`, "", ""))
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.QR.Detector()
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Detect("3112345678901234")
	if err != nil || got.Medium != "alipay" || got.Name != "Alipay+ partner: 16 digits starting 31" {
		t.Fatalf("the configured rule: %+v, %v", got, err)
	}
	if got, err := d.Detect("6212345678901234567"); err != nil || got.Medium != "unionpay_qr" {
		t.Fatalf("a published rule beside it: %+v, %v", got, err)
	}
	// The default profile has no rule of its own: the published ones only.
	def, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if len(def.QR.Rules) != 0 {
		t.Fatalf("default profile rules: %+v", def.QR.Rules)
	}
	if d, err := def.QR.Detector(); err != nil || len(d.Rules()) != 3 {
		t.Fatalf("default detector: %v", err)
	}
}

const alipayPlugin = `[[plugin]]
name = "alipay"
kind = "wallet"
medium = "alipay"
builtin = "alipay"
process = "hosts"
[plugin.config]                                            # plugins/channels/alipay/README.md
gateway = "{sim.alipay}"                                   # https://openapi.alipay.com/gateway.do for the real one
app_id = "{sim.alipay.app_id}"
private_key_file = "{sim.alipay.private_key_file}"         # the merchant's RSA private key
alipay_public_key_file = "{sim.alipay.alipay_public_key_file}"
`

func TestBadQRRulesAreRefused(t *testing.T) {
	if base, _ := os.ReadFile("default.toml"); !strings.Contains(string(base), alipayPlugin) {
		t.Fatal("the default profile's alipay plugin is not as this test expects")
	}
	// Without the Alipay plugin and without rules the profile is fine.
	if _, err := Load(writeProfile(t, "", alipayPlugin, "")); err != nil {
		t.Fatal(err)
	}
	rule := func(medium, pattern, name string) string {
		return "\n[[qr.rule]]\nmedium = \"" + medium + "\"\npattern = '" + pattern + "'\nname = \"" + name + "\"\n"
	}
	good := rule("wechat", `^17\d{16}$`, "WeChat 17")
	for name, c := range map[string]struct{ extra, from, to, want string }{
		"bad pattern": {extra: good + rule("alipay", `^(31\d{14}$`, "Alipay+ 31"),
			want: `qr.rule 2 ("Alipay+ 31"): compiling pattern "^(31\\d{14}$": error parsing regexp: missing closing )`},
		"card medium":     {extra: rule("card", `^9\d{15}$`, "a card"), want: `qr.rule 1 ("a card"): medium "card" is not a payment-code wallet`},
		"unknown medium":  {extra: rule("paypal", `^9\d{15}$`, "PayPal"), want: `qr.rule 1 ("PayPal"): medium "paypal" is not a payment-code wallet`},
		"no name":         {extra: rule("alipay", `^31\d{14}$`, ""), want: `qr.rule 1 (""): needs a name`},
		"matches nothing": {extra: rule("alipay", `.*`, "all"), want: `qr.rule 1 ("all"): pattern ".*" matches an empty code`},
		"unknown key":     {extra: good + "color = \"red\"\n", want: "unknown keys qr.rule.color"},
		// The default profile without its Alipay wallet plugin.
		"wallet not configured": {extra: rule("alipay", `^31\d{14}$`, "Alipay+ 31"), from: alipayPlugin, to: "",
			want: `qr.rule 1 ("Alipay+ 31"): medium "alipay" has no wallet plugin configured`},
	} {
		_, err := Load(writeProfile(t, c.extra, c.from, c.to))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want mention of %q", name, err, c.want)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: more than the rule is wrong: %v", name, err)
		}
	}
}

// The [[qr.rule]] examples of the README and of the default profile's
// comment load as written and detect their code.
func TestQRRuleExamplesWork(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "```toml\n[[qr.rule]]\n")
	block, _, _ = strings.Cut(block, "```")
	if !ok || block == "" {
		t.Fatal("README.md has no ```toml block starting with [[qr.rule]]")
	}
	base, _ := os.ReadFile("default.toml")
	_, comment, ok := strings.Cut(string(base), "# [[qr.rule]]\n")
	if !ok {
		t.Fatal("default.toml has no commented [[qr.rule]] example")
	}
	var uncommented []string
	for _, l := range strings.Split(strings.TrimSpace(comment), "\n") {
		uncommented = append(uncommented, strings.TrimPrefix(l, "# "))
	}
	for name, rule := range map[string]string{"README.md": block, "default.toml": strings.Join(uncommented, "\n") + "\n"} {
		c, err := Load(writeProfile(t, "\n[[qr.rule]]\n"+rule, "", ""))
		if err != nil {
			t.Fatalf("%s example: %v", name, err)
		}
		d, err := c.QR.Detector()
		if err != nil {
			t.Fatal(err)
		}
		if got, err := d.Detect("3112345678901234"); err != nil || got.Medium != "alipay" {
			t.Errorf("%s example: %+v, %v", name, got, err)
		}
	}
}

// The default profile starts the three simulators and points the real
// channel plugins at them; the profile of fakes starts none.
func TestProfilesSimulators(t *testing.T) {
	def, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, s := range def.Simulators {
		kinds = append(kinds, string(s.Kind))
		if want := "/d/sim/" + string(s.Kind) + "-ledger.jsonl"; s.LedgerPath("/d") != want {
			t.Errorf("%s ledger %s, want %s", s.Kind, s.LedgerPath("/d"), want)
		}
	}
	if strings.Join(kinds, " ") != "acquirer wechat alipay unionpay_qr" {
		t.Fatalf("default simulators %v", kinds)
	}
	builtins := map[string]string{}
	for _, p := range def.Plugins {
		builtins[p.Name] = p.Builtin
	}
	if builtins["acquirer"] != "acquirer" || builtins["wechat"] != "wechat" || builtins["alipay"] != "alipay" || builtins["unionpay-qr"] != "unionpay-qr" {
		t.Fatalf("default plugins %v", builtins)
	}
	fakes, err := LoadFakes()
	if err != nil {
		t.Fatal(err)
	}
	if len(fakes.Simulators) != 0 || fakes.Terminal != def.Terminal || len(fakes.Plugins) != len(def.Plugins) {
		t.Fatalf("fakes profile %+v", fakes)
	}
	for _, p := range fakes.Plugins {
		if !strings.HasPrefix(p.Builtin, "fake-") {
			t.Errorf("fakes profile plugin %s is %s", p.Name, p.Builtin)
		}
	}
	if (Simulator{Kind: "wechat", Ledger: "{data}/w.jsonl"}).LedgerPath("/d") != "/d/w.jsonl" {
		t.Error("{data} not expanded in a simulator's ledger")
	}
}

func TestBadSimulators(t *testing.T) {
	base, _ := os.ReadFile("default.toml")
	cases := map[string]struct{ from, to, want string }{
		"unknown kind": {"[[simulator]]\nkind = \"alipay\"", "[[simulator]]\nkind = \"paypal\"", `simulator 3 ("paypal"): unknown kind: want one of acquirer, alipay, unionpay_qr, wechat`},
		"twice":        {"[[simulator]]\nkind = \"alipay\"", "[[simulator]]\nkind = \"wechat\"", `simulator 3 ("wechat"): a second wechat simulator`},
		"bad addr":     {"[[simulator]]\nkind = \"alipay\"", "[[simulator]]\nkind = \"alipay\"\naddr = \"5000\"", `simulator 3 ("alipay"): addr "5000" is not host:port`},
		"bad admin":    {"[[simulator]]\nkind = \"alipay\"", "[[simulator]]\nkind = \"alipay\"\nadmin = \"localhost\"", `admin "localhost" is not host:port`},
		"unknown key":  {"[[simulator]]\nkind = \"alipay\"", "[[simulator]]\nkind = \"alipay\"\nport = 1", "unknown keys simulator.port"},
		"no simulator": {"[[simulator]]\nkind = \"alipay\"", "", `plugin "alipay": config alipay_public_key_file refers to {sim.alipay.alipay_public_key_file}, but no [[simulator]] has kind = "alipay"`},
	}
	for name, c := range cases {
		src := strings.Replace(string(base), c.from, c.to, 1)
		if src == string(base) {
			t.Fatalf("%s: %q is not in the default profile", name, c.from)
		}
		path := filepath.Join(t.TempDir(), "posrt.toml")
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want mention of %q", name, err, c.want)
		}
	}
}
