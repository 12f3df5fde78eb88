// Package plugins_test enforces the conventions every plugin kind and
// every posrt package follow, so that a new kind or package cannot land
// without its contract, docs, fake and conformance suite.
package plugins_test

import (
	"io/fs"
	"os"
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
			dir + "test/fake.go", dir + "test/conformance.go", dir + "test/doc.go",
		} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("plugins/%s lacks %s", dir, f)
			}
		}
		proto, err := os.ReadFile(filepath.Join(dir, "proto", dir+".proto"))
		if err == nil && !strings.Contains(string(proto), "package "+pkg+";") {
			t.Errorf("plugins/%s/proto/%s.proto is not package %s", dir, dir, pkg)
		}
		fakeTest, _ := os.ReadFile(filepath.Join(dir, dir+"test", "fake_test.go"))
		if !strings.Contains(string(fakeTest), "RunConformance(t, ") {
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
