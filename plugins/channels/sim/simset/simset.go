package simset

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/posrt/posrt/internal/durable"
)

// Kind names a host simulator.
type Kind string

// The simulators simset starts.
const (
	Acquirer Kind = "acquirer" // ISO 8583 card acquirer (acqsim)
	WeChat   Kind = "wechat"   // WeChat Pay API v2 gateway (wxsim)
	Alipay   Kind = "alipay"   // Alipay openapi gateway (alisim)
	// UnionPayQR is the UnionPay online gateway's payment-code
	// consumption (upqrsim).
	UnionPayQR Kind = "unionpay_qr"
)

// kind is one simulator's entry in the table: how it starts (making or
// reading its keys in dir) and how its ledger file reads for a merchant.
type kind struct {
	start  func(ctx context.Context, t Terminal, dir string, s Spec) (*Sim, error)
	ledger func(path string) ([]string, error)
}

// kinds is the table of simulators; a new one is one entry here.
var kinds = map[Kind]kind{
	Acquirer:   {start: startAcquirer, ledger: acquirerLedger},
	WeChat:     {start: startWeChat, ledger: wechatLedger},
	Alipay:     {start: startAlipay, ledger: alipayLedger},
	UnionPayQR: {start: startUnionPayQR, ledger: unionPayQRLedger},
}

// Kinds lists the simulators simset knows, sorted.
func Kinds() []Kind {
	ks := make([]Kind, 0, len(kinds))
	for k := range kinds {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}

// Known reports whether k is a simulator simset starts.
func Known(k Kind) bool { _, ok := kinds[k]; return ok }

// Spec is one simulator to start.
type Spec struct {
	Kind Kind
	// Addr is where it listens (127.0.0.1:0 when empty).
	Addr string
	// AdminAddr is where its HTTP admin endpoint (GET /ledger, GET and
	// POST /faults) listens (127.0.0.1:0 when empty).
	AdminAddr string
	// Ledger is its ledger file; empty keeps the ledger in memory.
	Ledger string
}

// Terminal is the terminal the simulators serve.
type Terminal struct {
	TID string
	MID string
}

// File is a key file a simulator made or read.
type File struct {
	// Name is the placeholder name: "{sim.<kind>.<Name>}" stands for Path.
	Name string
	Path string
}

// Sim is one running simulator.
type Sim struct {
	Kind Kind
	// Addr is what a plugin's configuration names it by: host:port for
	// the acquirer, the gateway's URL for a wallet ("{sim.<kind>}").
	Addr     string
	AdminURL string
	// Ledger is its ledger file, empty in memory.
	Ledger string
	// Files are its key files.
	Files []File
	// Values are further values a plugin's configuration takes from it
	// ("{sim.<kind>.<name>}"): the merchant ids it serves.
	Values map[string]string
	close  func() error
}

// Set is the simulators Start started.
type Set struct{ sims []*Sim }

// DefaultLedger is where a simulator of kind k keeps its ledger in dir
// when its configuration names none.
func DefaultLedger(dir string, k Kind) string {
	return filepath.Join(dir, string(k)+"-ledger.jsonl")
}

// Start starts the simulators of specs serving t, each kind at most once,
// with their keys in dir (made there on first start, read back after).
// On error nothing is left running.
func Start(ctx context.Context, t Terminal, dir string, specs []Spec) (*Set, error) {
	s := &Set{}
	seen := map[Kind]bool{}
	for _, sp := range specs {
		k, ok := kinds[sp.Kind]
		var err error
		switch {
		case !ok:
			err = fmt.Errorf("no simulator %q (simulators: %s)", sp.Kind, kindList())
		case seen[sp.Kind]:
			err = fmt.Errorf("a second %s simulator", sp.Kind)
		}
		seen[sp.Kind] = true
		if err == nil {
			if sp.Addr == "" {
				sp.Addr = "127.0.0.1:0"
			}
			if sp.AdminAddr == "" {
				sp.AdminAddr = "127.0.0.1:0"
			}
			var sim *Sim
			if sim, err = k.start(ctx, t, dir, sp); err == nil {
				sim.Kind, sim.Ledger = sp.Kind, sp.Ledger
				s.sims = append(s.sims, sim)
			}
		}
		if err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("starting the %s simulator: %w", sp.Kind, err)
		}
	}
	return s, nil
}

func kindList() string {
	var names []string
	for _, k := range Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// Sims lists the running simulators in the order they were started.
func (s *Set) Sims() []*Sim {
	if s == nil {
		return nil
	}
	return s.sims
}

// placeholderRe matches a simulator placeholder: {sim.KIND} or
// {sim.KIND.NAME}.
var placeholderRe = regexp.MustCompile(`\{sim\.([a-z0-9_]+)(?:\.([a-z0-9_]+))?\}`)

// Placeholders returns the simulator kinds and names the placeholders in
// v refer to, "kind" or "kind.name" each.
func Placeholders(v string) []string {
	var out []string
	for _, m := range placeholderRe.FindAllStringSubmatch(v, -1) {
		if m[2] == "" {
			out = append(out, m[1])
		} else {
			out = append(out, m[1]+"."+m[2])
		}
	}
	return out
}

// Expand replaces the simulator placeholders in v: "{sim.<kind>}" by the
// simulator's Addr, "{sim.<kind>.<name>}" by its key file or value of
// that name. A placeholder of a simulator not running, or of a name it
// does not have, is an error.
func (s *Set) Expand(v string) (string, error) {
	var errs []error
	out := placeholderRe.ReplaceAllStringFunc(v, func(p string) string {
		m := placeholderRe.FindStringSubmatch(p)
		for _, sim := range s.Sims() {
			if string(sim.Kind) != m[1] {
				continue
			}
			if m[2] == "" {
				return sim.Addr
			}
			for _, f := range sim.Files {
				if f.Name == m[2] {
					return f.Path
				}
			}
			if val, ok := sim.Values[m[2]]; ok {
				return val
			}
			errs = append(errs, fmt.Errorf("%s: the %s simulator has no %q", p, m[1], m[2]))
			return p
		}
		errs = append(errs, fmt.Errorf("%s: no %s simulator is running (add a [[simulator]] kind = %q)", p, m[1], m[1]))
		return p
	})
	return out, errors.Join(errs...)
}

// Close stops the simulators, the last started first.
func (s *Set) Close() error {
	if s == nil {
		return nil
	}
	var errs []error
	for i := len(s.sims) - 1; i >= 0; i-- {
		if err := s.sims[i].close(); err != nil {
			errs = append(errs, fmt.Errorf("stopping the %s simulator: %w", s.sims[i].Kind, err))
		}
	}
	s.sims = nil
	return errors.Join(errs...)
}

// Ledger reads the ledger file at path of a simulator of kind k, one line
// for a merchant per entry (a missing file has none).
func Ledger(k Kind, path string) ([]string, error) {
	d, ok := kinds[k]
	if !ok {
		return nil, fmt.Errorf("no simulator %q (simulators: %s)", k, kindList())
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	lines, err := d.ledger(path)
	if err != nil {
		return nil, fmt.Errorf("reading the %s simulator's ledger %s: %w", k, path, err)
	}
	return lines, nil
}

// keyFile returns the contents of the key file at path, making it with
// make (and writing it durably, mode 0600 for a secret, else 0644) when
// it does not exist.
func keyFile(path string, secret bool, make func() ([]byte, error)) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading key file: %w", err)
	}
	if b, err = make(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("making the key directory: %w", err)
	}
	mode := os.FileMode(0o644)
	if secret {
		mode = 0o600
	}
	if err := durable.WriteFile(path, b, mode); err != nil {
		return nil, fmt.Errorf("writing key file %s: %w", path, err)
	}
	return b, nil
}

// randomHex is n random bytes in hex.
func randomHex(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("generating a key: %w", err)
	}
	return []byte(hex.EncodeToString(b)), nil
}

// yuan writes fen as yuan with two decimals.
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}
