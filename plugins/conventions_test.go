// Package plugins_test enforces the conventions every plugin kind and
// every posrt package follow, so that a new kind or package cannot land
// without its contract, docs, fake and conformance suite.
package plugins_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var kinds = map[string]string{ // folder: proto package
	"pinpad":   "posrt.pinpad.v1",
	"printer":  "posrt.printer.v1",
	"scanner":  "posrt.scanner.v1",
	"channels": "posrt.channels.v1",
}

func TestEveryKindHasItsParts(t *testing.T) {
	for dir, pkg := range kinds {
		for _, f := range []string{
			"README.md", "doc.go", dir + ".go", "versions.go", "plugin.go", "client.go", "server.go",
			"proto/" + dir + ".proto", "proto/" + dir + ".pb.go", "proto/" + dir + "_grpc.pb.go",
			"fake/fake.go", "fake/doc.go", dir + "test/conformance.go", dir + "test/doc.go",
		} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("plugins/%s lacks %s", dir, f)
			}
		}
		proto, err := os.ReadFile(filepath.Join(dir, "proto", dir+".proto"))
		if err == nil && !strings.Contains(string(proto), "package "+pkg+";") {
			t.Errorf("plugins/%s/proto/%s.proto is not package %s", dir, dir, pkg)
		}
		runs := false
		for _, f := range []string{filepath.Join(dir, "fake", "fake_test.go"), filepath.Join(dir, dir+"test", "fake_test.go")} {
			b, _ := os.ReadFile(f)
			runs = runs || strings.Contains(string(b), "Conformance(t, ") // RunConformance, or RunAcquirerConformance and the like
		}
		if !runs {
			t.Errorf("plugins/%s: no test runs RunConformance on the fake", dir)
		}
	}
}

var packageClause = regexp.MustCompile(`(?m)^// Package \w+ `)

// Every Go package of posrt has a doc.go opening with "// Package name".
func TestEveryPackageHasADocParagraph(t *testing.T) {
	root := ".."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if name == "testdata" || name == "proto" || strings.HasPrefix(name, ".") && path != root || name == "bin" {
			return filepath.SkipDir
		}
		srcs, _ := filepath.Glob(filepath.Join(path, "*.go"))
		nonTest := 0
		for _, s := range srcs {
			if !strings.HasSuffix(s, "_test.go") {
				nonTest++
			}
		}
		if nonTest == 0 || filepath.Base(path) == "posrt" && strings.HasSuffix(filepath.Dir(path), "cli") {
			return nil // test-only packages and the main package's own comment
		}
		doc, err := os.ReadFile(filepath.Join(path, "doc.go"))
		if err != nil || !packageClause.Match(doc) {
			t.Errorf("%s has no doc.go with a package paragraph", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The production binary serves the fakes but no posrt package it links
// imports testing: a fake is a faithful device, not test code, and the
// conformance suites stay out of the binary. (hashicorp/go-plugin itself
// imports the standard testing package for its TestPluginGRPCConn helpers;
// that is go-plugin's, and no posrt test code comes with it.)
func TestBinaryLinksNoTestingPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "../cli/posrt").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps ./cli/posrt: %v\n%s", err, out)
	}
	posrtPkgs := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], "github.com/posrt/posrt/") {
			continue
		}
		posrtPkgs++
		if strings.HasSuffix(fields[0], "test") {
			t.Errorf("cli/posrt links the test package %s", fields[0])
		}
		for _, imp := range fields[1:] {
			if imp == "testing" || strings.HasPrefix(imp, "testing/") {
				t.Errorf("cli/posrt links %s, which imports %s", fields[0], imp)
			}
		}
	}
	if posrtPkgs < 10 {
		t.Fatalf("go list found only %d posrt packages behind cli/posrt:\n%s", posrtPkgs, out)
	}
}
