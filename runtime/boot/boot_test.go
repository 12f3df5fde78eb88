package boot

import (
	"os"
	"path/filepath"
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
	devices, hosts := "pinpad=fake-pinpad printer=fake-printer scanner=fake-scanner", "acquirer=fake-acquirer wechat=fake-wechat alipay=fake-alipay unionpay-qr=fake-unionpay-qr"
	want := map[string]string{"pinpad": devices, "printer": devices, "scanner": devices, "acquirer": hosts,
		"wechat": hosts, "alipay": hosts, "unionpay-qr": hosts}
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
