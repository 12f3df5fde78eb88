package boot

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posrt/posrt/runtime/config"
)

func TestSpecsOfTheFakesProfile(t *testing.T) {
	c, err := config.LoadFakes()
	if err != nil {
		t.Fatal(err)
	}
	specs, err := Specs(c, "/usr/bin/posrt", "/var/posrt", nil)
	if err != nil || len(specs) != 7 {
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
	devices, hosts := "pinpad=fake-pinpad printer=fake-printer scanner=fake-scanner", "acquirer=fake-acquirer wechat=fake-wechat alipay=fake-alipay unionpay-qr=fake-unionpay-qr"
	want := map[string]string{"pinpad": devices, "printer": devices, "scanner": devices, "acquirer": hosts,
		"wechat": hosts, "alipay": hosts, "unionpay-qr": hosts}
	for name, w := range want {
		if args[name] != w {
			t.Errorf("%s serves %q, want %q", name, args[name], w)
		}
	}
}

// The default profile's simulators start in the data directory, their
// keys are made once and read back by the next start, and the plugins'
// placeholders become the running simulators' addresses and key files.
func TestDefaultProfileSimulators(t *testing.T) {
	c, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Specs(c, "/usr/bin/posrt", "/d", nil); err == nil || !strings.Contains(err.Error(), "no acquirer simulator is running") {
		t.Fatalf("specs without the simulators: %v", err)
	}
	data := t.TempDir()
	start := func() map[string]map[string]string {
		t.Helper()
		sims, err := StartSimulators(context.Background(), Options{Config: c, DataDir: data}, true)
		if err != nil {
			t.Fatal(err)
		}
		defer sims.Close()
		if len(sims.Sims()) != 4 {
			t.Fatalf("%d simulators started", len(sims.Sims()))
		}
		for _, s := range sims.Sims() {
			if want := filepath.Join(data, "sim", string(s.Kind)+"-ledger.jsonl"); s.Ledger != want {
				t.Errorf("%s ledger %s, want %s", s.Kind, s.Ledger, want)
			}
		}
		specs, err := Specs(c, "/usr/bin/posrt", data, sims)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]map[string]string{}
		for _, s := range specs {
			out[s.Name] = s.Config
			for k, v := range s.Config {
				if strings.Contains(v, "{") {
					t.Errorf("plugin %s config %s = %q: a placeholder left", s.Name, k, v)
				}
			}
		}
		acq := sims.Sims()[0]
		if acq.Kind != "acquirer" || out["acquirer"]["address"] != acq.Addr || !strings.HasPrefix(acq.Addr, "127.0.0.1:") {
			t.Fatalf("acquirer address %q, simulator %+v", out["acquirer"]["address"], acq)
		}
		return out
	}
	first := start()
	tmk, err := os.ReadFile(filepath.Join(data, "sim", "acquirer-tmk"))
	if err != nil || strings.TrimSpace(string(tmk)) != first["pinpad"]["tmk"] || len(first["pinpad"]["tmk"]) != 32 {
		t.Fatalf("the PIN pad's TMK %q is not the acquirer simulator's %q (%v)", first["pinpad"]["tmk"], tmk, err)
	}
	if first["wechat"]["key_file"] != filepath.Join(data, "sim", "wechat-key") || first["alipay"]["private_key_file"] == "" {
		t.Fatalf("wallet key files: %v %v", first["wechat"], first["alipay"])
	}
	key, _ := os.ReadFile(first["wechat"]["key_file"])
	pem, _ := os.ReadFile(first["alipay"]["private_key_file"])
	root, _ := os.ReadFile(first["unionpay-qr"]["root_cert_file"])
	cert, _ := os.ReadFile(first["unionpay-qr"]["sign_cert_file"])
	second := start()
	key2, _ := os.ReadFile(second["wechat"]["key_file"])
	pem2, _ := os.ReadFile(second["alipay"]["private_key_file"])
	root2, _ := os.ReadFile(second["unionpay-qr"]["root_cert_file"])
	cert2, _ := os.ReadFile(second["unionpay-qr"]["sign_cert_file"])
	if second["pinpad"]["tmk"] != first["pinpad"]["tmk"] || len(key) == 0 || string(key2) != string(key) || len(pem) == 0 || string(pem2) != string(pem) ||
		len(root) == 0 || string(root2) != string(root) || len(cert) == 0 || string(cert2) != string(cert) {
		t.Fatal("the second start made new keys")
	}
	if second["unionpay-qr"]["state_file"] != filepath.Join(data, "unionpay-qr-state.jsonl") || second["unionpay-qr"]["mer_id"] == "" {
		t.Errorf("unionpay-qr config %v", second["unionpay-qr"])
	}
}

func TestVendorPluginPathIsRelativeToTheConfiguration(t *testing.T) {
	c := config.Config{Source: "/etc/posrt/posrt.toml", Plugins: []config.Plugin{{Name: "pp", Kind: "pinpad", Path: "vendor/pinpad", SHA256: "ab"}}}
	specs, err := Specs(c, "/usr/bin/posrt", "/d", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := specs[0]
	if s.Builtin || s.Path != "/etc/posrt/vendor/pinpad" || s.SHA256 != "ab" {
		t.Fatalf("vendor spec = %+v", s)
	}
}

// A data directory deep enough that its sockets would not fit a unix
// socket path gets its socket directory in the temporary directory, one
// per data directory, closed to other users.
func TestLongDataDirectoryKeepsSocketsShort(t *testing.T) {
	base := t.TempDir()
	long := func(name string) string {
		return filepath.Join(base, strings.Repeat("d", 60), name, strings.Repeat("e", 40))
	}
	a, b := long("a"), long("b")
	dirA, err := MakeSocketDir(a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(dirA)) })
	dirB, err := MakeSocketDir(b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(dirB)) })
	if len(dirA)+len("/plugin0123456789") > maxSocketPath || strings.HasPrefix(dirA, a) {
		t.Fatalf("socket directory %s (%d bytes) for data directory %s", dirA, len(dirA), a)
	}
	if filepath.Dir(dirA) == filepath.Dir(dirB) {
		t.Fatalf("two data directories share socket directory %s", dirA)
	}
	short := filepath.Join(base, "data")
	if got, err := MakeSocketDir(short); err != nil || !strings.HasPrefix(got, short) {
		t.Fatalf("short data directory: sockets in %s, %v", got, err)
	}
	// A socket directory someone else could enter is refused.
	if err := os.Chmod(filepath.Dir(dirA), 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := MakeSocketDir(a); err == nil || !strings.Contains(err.Error(), "closed to others") {
		t.Fatalf("socket directory open to others: %v", err)
	}
}
