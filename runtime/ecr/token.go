package ecr

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// TokenFile is the name of the token file in the data directory.
const TokenFile = "ecr-token"

// LoadToken returns the configured token, or else the one kept in
// dataDir/ecr-token, creating it (32 random bytes in hex, mode 0600) on
// first start. A token file others can read is refused. The file is made
// whole and durable, name included, before the token is used: a power cut
// leaves either no token file (a new token is made) or the whole token,
// never an empty file, and never loses a token a cash register holds.
func LoadToken(dataDir, configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	path := filepath.Join(dataDir, TokenFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		buf := make([]byte, 32)
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("making the ECR token: %w", err)
		}
		token := hex.EncodeToString(buf)
		if err := writeDurably(path, []byte(token+"\n")); err != nil {
			return "", fmt.Errorf("writing the ECR token: %w", err)
		}
		return token, nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the ECR token: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s is readable by others (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	token := strings.TrimSpace(string(b))
	if len(token) < 16 {
		return "", fmt.Errorf("%s holds no token of at least 16 characters", path)
	}
	return token, nil
}

// writeDurably writes data to path through a temporary file that is synced
// and renamed over path, and then syncs the directory, so that path holds
// all of data or (after a power cut) nothing at all.
func writeDurably(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
