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

	"github.com/posrt/posrt/internal/durable"
)

// TokenFile is the name of the token file in the data directory.
const TokenFile = "ecr-token"

// AddrFile is the file in the data directory where posrt run notes the
// address its ECR API listens on.
const AddrFile = "ecr-addr"

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
		if err := durable.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
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
