package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A key file is refused, naming what is wrong, before anything is sent.
func TestReadMasterKey(t *testing.T) {
	const key = "0123456789ABCDEFFEDCBA9876543210" // check value 08D7B4
	for _, c := range []struct {
		name, content, kcv, want string
	}{
		{"the key and its check value", key + " 08D7B4\n", "", ""},
		{"on two lines, lower case", strings.ToLower(key) + "\n08d7b4\n", "", ""},
		{"the check value by flag", key + "\n", "08D7B4", ""},
		{"no check value", key + "\n", "", "no check value"},
		{"a wrong check value", key + " 08D7B5\n", "", "does not match its check value"},
		{"a short key", key[:30] + " 08D7B4\n", "", "32 hex digits"},
		{"not hex", strings.Replace(key, "0", "O", 1) + " 08D7B4\n", "", "32 hex digits"},
		{"a check value of 5 digits", key + " 08D7B\n", "", "6 or 8 hex digits"},
		{"three words", key + " 08D7B4 extra\n", "", "holds 3 words"},
		{"empty", "", "", "holds 0 words"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "tmk")
			if err := os.WriteFile(f, []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			k, err := readMasterKey(f, c.kcv)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("readMasterKey: %v", err)
			case c.want == "" && (len(k.Key) != 16 || len(k.CheckValue) != 3):
				t.Fatalf("key %d bytes, check value %X", len(k.Key), k.CheckValue)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("readMasterKey = %v, want an error saying %q", err, c.want)
			}
		})
	}
}
