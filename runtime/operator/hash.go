package operator

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id parameters of a password hash. They are stored
// with every hash (in the PHC string format), so a hash made with older
// parameters still verifies, and is made again with the store's current
// ones at the next successful login.
type Params struct {
	// Memory is in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
	// SaltLen and KeyLen are in bytes.
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams are the parameters posrt hashes passwords with: 7 MiB,
// 5 passes, one thread (the least-memory argon2id setting OWASP's password
// storage guide lists as equivalent to its 19 MiB / 2 passes floor: each
// check allocates its memory inside posrt, whose whole footprint is
// budgeted at 64 MB; about 26 ms a login here), a 16-byte salt and a
// 32-byte key.
func DefaultParams() Params {
	return Params{Memory: 7 * 1024, Time: 5, Threads: 1, SaltLen: 16, KeyLen: 32}
}

func (p Params) valid() error {
	switch {
	case p.Time < 1:
		return errors.New("argon2id time must be at least 1")
	case p.Threads < 1:
		return errors.New("argon2id threads must be at least 1")
	case p.Memory < 8*uint32(p.Threads):
		return errors.New("argon2id memory must be at least 8 KiB a thread")
	case p.Memory > 1<<20:
		return errors.New("argon2id memory must be at most 1 GiB")
	case p.Time > 64:
		return errors.New("argon2id time must be at most 64")
	case p.SaltLen < 8 || p.SaltLen > 64:
		return errors.New("argon2id salt must be 8 to 64 bytes")
	case p.KeyLen < 16 || p.KeyLen > 64:
		return errors.New("argon2id key must be 16 to 64 bytes")
	}
	return nil
}

// hashPassword hashes password with p and a fresh random salt, in the PHC
// string format $argon2id$v=19$m=..,t=..,p=..$salt$key (unpadded base64).
func hashPassword(p Params, password string) (string, error) {
	if err := p.valid(); err != nil {
		return "", fmt.Errorf("hashing a password: %w", err)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("making a salt: %w", err)
	}
	return encodeHash(p, salt, argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)), nil
}

func encodeHash(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decodeHash parses a PHC argon2id string into its parameters, salt and
// key; anything else (another algorithm, version, or malformed) is an
// error.
func decodeHash(encoded string) (Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, errors.New("not an argon2id hash")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return Params{}, nil, nil, fmt.Errorf("argon2id version %q is not %d", parts[2], argon2.Version)
	}
	var p Params
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || n != 3 ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads) {
		return Params{}, nil, nil, fmt.Errorf("argon2id parameters %q are malformed", parts[3])
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return Params{}, nil, nil, fmt.Errorf("decoding the argon2id salt: %w", err)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return Params{}, nil, nil, fmt.Errorf("decoding the argon2id key: %w", err)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.valid(); err != nil {
		return Params{}, nil, nil, err
	}
	return p, salt, key, nil
}

// verifyPassword tells whether password is the one hashed in encoded,
// comparing the keys in constant time, and returns the hash's parameters.
func verifyPassword(encoded, password string) (bool, Params, error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, Params{}, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, p, nil
}
