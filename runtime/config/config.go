package config

import (
	_ "embed"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/posrt/posrt/runtime/gpio"

	"github.com/BurntSushi/toml"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels/sim/simset"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/qr"
)

//go:embed default.toml
var defaultProfile string

// fakesProfile is the default profile with the built-in fakes for hosts
// (fake-acquirer, fake-wechat, fake-alipay, fake-unionpay-qr) and no
// simulators: tests and fault scenarios set the fakes' keys.
//
//go:embed fakes.toml
var fakesProfile string

// Config is a terminal's configuration.
type Config struct {
	Terminal  Terminal  `toml:"terminal"`
	ECR       ECR       `toml:"ecr"`
	Flows     Flows     `toml:"flows"`
	Resolve   Resolve   `toml:"resolve"`
	Settle    Settle    `toml:"settlement"`
	History   History   `toml:"history"`
	Operators Operators `toml:"operators"`
	Runtime   Runtime   `toml:"runtime"`
	QR        QR        `toml:"qr"`
	GPIO      GPIO      `toml:"gpio"`
	Plugins   []Plugin  `toml:"plugin"`
	// Simulators are the host simulators posrt run starts in-process
	// before the plugins ([[simulator]]); none unless configured.
	Simulators []Simulator `toml:"simulator,omitempty"`
	// Source names where the configuration came from.
	Source string `toml:"-"`
}

// Terminal holds the ids the acquirer issued.
type Terminal struct {
	TID          string `toml:"tid"`
	MID          string `toml:"mid"`
	MerchantName string `toml:"merchant_name"`
}

// ECR configures the cash register's local API.
type ECR struct {
	Addr string `toml:"addr"`
	// Token is the bearer token a cash register sends; empty: posrt makes
	// one on first start and keeps it in <data-dir>/ecr-token (mode 0600).
	Token string `toml:"token"`
}

// Resolve sets how unknown outcomes are resolved (durations such as "10s").
type Resolve struct {
	// ReversalAttempts is how many reversals or cancels may fail before
	// the record is flagged and its channel refuses online operations (3).
	ReversalAttempts int    `toml:"reversal_attempts"`
	RetryBackoff     string `toml:"retry_backoff"`     // first wait between attempts, doubled each time (5s)
	MaxBackoff       string `toml:"max_backoff"`       // (5m)
	WalletPollEvery  string `toml:"wallet_poll_every"` // while a wallet's customer is paying (10s)
	WalletPollFor    string `toml:"wallet_poll_for"`   // then cancel (30s)
}

// Settle sets when the batch must be settled, as the acquirer wants it.
type Settle struct {
	// MaxRecords: new money operations are refused with settle_first once
	// the batch holds this many records (500); -1: no limit.
	MaxRecords int `toml:"max_records"`
	// SpanDays: the acquirer lets a batch run past its business day (by
	// default a batch from an earlier day must be settled first).
	SpanDays bool `toml:"span_days"`
	// AutoAt is the local time ("23:00") at which the terminal settles by
	// itself each day, and where its business day ends; empty: settled by
	// hand.
	AutoAt string `toml:"auto_at"`
}

// Operators sets the operators' lockout.
type Operators struct {
	// LockMinutes is how long 5 wrong passwords in a row lock an operator
	// (30); the supervisor unlocks a cashier sooner.
	LockMinutes int `toml:"lock_minutes"`
}

// LockFor is the lockout as a duration (zero: the default).
func (o Operators) LockFor() time.Duration { return time.Duration(o.LockMinutes) * time.Minute }

// GPIO names the terminal's GPIO pins (periph's names, such as GPIO17):
// a tamper switch and a cash-drawer sensor; empty names have none.
type GPIO struct {
	Tamper       string `toml:"tamper"`
	TamperActive string `toml:"tamper_active"` // low or high: the level of an opened case (high)
	Drawer       string `toml:"drawer"`
	DrawerOpen   string `toml:"drawer_open"` // low or high: the level of an open drawer (high)
	Debounce     string `toml:"debounce"`    // how long a level must hold (50ms)
}

// Watch is the gpio package's configuration of g (checked by Load).
func (g GPIO) Watch() gpio.Config {
	d, _ := time.ParseDuration(g.Debounce)
	return gpio.Config{Tamper: g.Tamper, TamperActive: gpio.Level(g.TamperActive), Drawer: g.Drawer, DrawerOpen: gpio.Level(g.DrawerOpen), Debounce: d}
}

// History sets how long the journal keeps settled records.
type History struct {
	// RetentionDays: settled records older than this many days are
	// compacted away (93, three months); -1 keeps them for ever.
	RetentionDays int `toml:"retention_days"`
}

// Retention is the retention as a duration: zero for the default,
// negative for ever.
func (h History) Retention() time.Duration {
	if h.RetentionDays < 0 {
		return -1
	}
	return time.Duration(h.RetentionDays) * 24 * time.Hour
}

// Runtime configures the posrt process itself.
type Runtime struct {
	// MemoryLimit is a soft limit on the Go heap of the posrt process (its
	// plugins are processes of their own), such as "48MiB": the garbage
	// collector works harder as the heap nears it (runtime/debug
	// SetMemoryLimit). Empty: no limit.
	MemoryLimit string `toml:"memory_limit"`
	// PluginMemoryLimit is the same soft limit for each plugin process,
	// given to it as GOMEMLIMIT (a plugin written in Go honours it). Empty:
	// none.
	PluginMemoryLimit string `toml:"plugin_memory_limit"`
}

// PluginMemoryLimitBytes returns runtime.plugin_memory_limit, 0 when unset.
func (r Runtime) PluginMemoryLimitBytes() (Bytes, error) {
	if r.PluginMemoryLimit == "" {
		return 0, nil
	}
	return ParseBytes(r.PluginMemoryLimit)
}

// Bytes is a size in bytes.
type Bytes int64

var sizeRe = regexp.MustCompile(`^([0-9]+)\s*(B|KiB|MiB|GiB|kB|MB|GB)?$`)

var sizeUnits = map[string]Bytes{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "kB": 1e3, "MB": 1e6, "GB": 1e9}

// ParseBytes reads a size such as "48MiB", "64MB" or "1GiB" (a bare number
// is bytes).
func ParseBytes(s string) (Bytes, error) {
	m := sizeRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("parsing size %q: want a number and a unit such as 48MiB", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	unit := sizeUnits[m[2]]
	if err != nil || n > math.MaxInt64/int64(unit) {
		return 0, fmt.Errorf("parsing size %q: too large", s)
	}
	return Bytes(n) * unit, nil
}

// MemoryLimitBytes returns the soft memory limit set by runtime.memory_limit,
// or 0 for none.
func (r Runtime) MemoryLimitBytes() (Bytes, error) {
	if r.MemoryLimit == "" {
		return 0, nil
	}
	return ParseBytes(r.MemoryLimit)
}

// Flows configures the cashier flows: the merchant's overrides, and the
// worker processes they run in.
type Flows struct {
	Dir string `toml:"dir"`
	// Workers is how many flow worker processes are kept ready (each
	// runs one flow at a time; DefaultFlowWorkers when left out); 0 runs
	// flows inside posrt itself, without the workers' protection.
	Workers int `toml:"workers"`
	// MemoryLimit is each worker's memory limit ("64MiB" when empty): a
	// flow past it fails and its worker is replaced.
	MemoryLimit string `toml:"memory_limit"`
	// Timeout bounds one run of a flow ("150s" when empty: a whole card
	// transaction may take 120s, then the receipts print).
	Timeout string `toml:"timeout"`
}

// TimeoutDuration returns flows.timeout, 0 (the default) when unset.
func (f Flows) TimeoutDuration() (time.Duration, error) {
	if f.Timeout == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(f.Timeout)
	if err != nil || d < time.Second {
		return 0, fmt.Errorf("flows.timeout %q: want a duration of at least 1s, such as \"150s\"", f.Timeout)
	}
	return d, nil
}

// DefaultFlowWorkers is flows.workers when a configuration leaves it out.
const DefaultFlowWorkers = 1

// MemoryLimitBytes returns flows.memory_limit, 64 MiB when unset.
func (f Flows) MemoryLimitBytes() (Bytes, error) {
	if f.MemoryLimit == "" {
		return 64 << 20, nil
	}
	b, err := ParseBytes(f.MemoryLimit)
	if err != nil {
		return 0, fmt.Errorf("flows.memory_limit: %w", err)
	}
	return b, nil
}

// QR extends the table posrt tells a payment code's wallet from.
type QR struct {
	// Rules are the deployer's [[qr.rule]] entries, checked before the
	// wallets' published formats. A code that rules of two media match is
	// refused as ambiguous, never guessed.
	Rules []QRRule `toml:"rule"`
}

// QRRule is one [[qr.rule]]: codes matching Pattern (an RE2 regular
// expression matched against the whole code) belong to Medium, one of the
// configured wallets' media; Name describes the format to a cashier.
type QRRule struct {
	Medium  string `toml:"medium"`
	Pattern string `toml:"pattern"`
	Name    string `toml:"name"`
}

// Detector builds the payment-code detector of the configuration: the
// deployer's rules, then the published ones.
func (q QR) Detector() (*qr.Detector, error) {
	rules := make([]qr.Rule, len(q.Rules))
	for i, r := range q.Rules {
		rules[i] = qr.Rule{Medium: journal.Medium(r.Medium), Pattern: r.Pattern, Name: r.Name}
	}
	d, err := qr.NewDetector(rules)
	if err != nil {
		return nil, fmt.Errorf("building the payment-code rules: %w", err)
	}
	return d, nil
}

// Plugin is one plugin: a built-in (served by posrt itself) or a vendor
// executable with its pinned checksum.
type Plugin struct {
	Name    string            `toml:"name"`
	Kind    string            `toml:"kind"`
	Builtin string            `toml:"builtin,omitempty"`
	Path    string            `toml:"path,omitempty"`
	SHA256  string            `toml:"sha256,omitempty"`
	Args    []string          `toml:"args,omitempty"`
	Config  map[string]string `toml:"config,omitempty"`
	// Medium is what a wallet plugin takes: wechat, alipay or unionpay_qr.
	Medium      string `toml:"medium,omitempty"`
	CallTimeout string `toml:"call_timeout,omitempty"`
	// Process names a plugin process this plugin shares with the other
	// plugins of the same process (they must be all built-ins, or all the
	// same vendor executable that serves several plugins); empty: a process
	// of its own. Sharing saves the memory of a process per plugin.
	Process string `toml:"process,omitempty"`
}

// Simulator is one [[simulator]]: a host simulator (package simset)
// that posrt run starts in its own process before the plugins, and that
// plugins reach through "{sim.<kind>}" placeholders in their config.
type Simulator struct {
	// Kind is the simulator: acquirer, wechat or alipay.
	Kind simset.Kind `toml:"kind"`
	// Addr is where it listens; DefaultSimulatorAddr when empty.
	Addr string `toml:"addr,omitempty"`
	// Admin is where its HTTP admin endpoint listens; DefaultSimulatorAddr
	// when empty.
	Admin string `toml:"admin,omitempty"`
	// Ledger is its ledger file ("{data}" stands for the data directory);
	// DefaultSimulatorLedger when empty.
	Ledger string `toml:"ledger,omitempty"`
}

// DefaultSimulatorAddr is where a simulator listens unless configured: a
// free loopback port.
const DefaultSimulatorAddr = "127.0.0.1:0"

// SimulatorDir is the directory under the data directory where the
// simulators keep their keys and, by default, their ledgers.
const SimulatorDir = "sim"

// LedgerPath is the simulator's ledger file for the data directory
// dataDir: its ledger with "{data}" expanded, or
// {data}/sim/<kind>-ledger.jsonl.
func (s Simulator) LedgerPath(dataDir string) string {
	if s.Ledger == "" {
		return simset.DefaultLedger(filepath.Join(dataDir, SimulatorDir), s.Kind)
	}
	return strings.ReplaceAll(s.Ledger, "{data}", dataDir)
}

// Load reads the configuration at path, or the embedded default profile
// when path is empty.
func Load(path string) (Config, error) {
	src, source := defaultProfile, "the embedded default profile"
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("reading configuration: %w", err)
		}
		src, source = string(b), path
	}
	return parse(src, source)
}

// LoadFakes reads the embedded profile of fakes: the default profile's
// terminal and devices, with the built-in fake hosts instead of the real
// channel plugins and no simulators.
func LoadFakes() (Config, error) {
	return parse(fakesProfile, "the embedded profile of fakes")
}

func parse(src, source string) (Config, error) {
	var c Config
	md, err := toml.Decode(src, &c)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", source, err)
	}
	if undec := md.Undecoded(); len(undec) > 0 {
		keys := make([]string, len(undec))
		for i, k := range undec {
			keys[i] = k.String()
		}
		return Config{}, fmt.Errorf("%s: unknown keys %s", source, strings.Join(keys, ", "))
	}
	c.Source = source
	if !md.IsDefined("flows", "workers") {
		c.Flows.Workers = DefaultFlowWorkers
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", source, err)
	}
	return c, nil
}

var (
	tidRe = regexp.MustCompile(`^[0-9A-Za-z]{8}$`)
	midRe = regexp.MustCompile(`^[0-9A-Za-z]{15}$`)
)

// Kinds a terminal needs exactly one of (the scanner is optional, and
// wallets are any number).
var required = []string{base.KindPinPad, base.KindPrinter, base.KindAcquirer}

var knownKinds = map[string]bool{base.KindPinPad: true, base.KindPrinter: true, base.KindScanner: true, base.KindAcquirer: true, base.KindWallet: true}

// minMemoryLimit is the least runtime.memory_limit accepted: below it the
// collector would run without pause.
const minMemoryLimit = 8 << 20

// minPluginMemoryLimit is the least runtime.plugin_memory_limit accepted.
const minPluginMemoryLimit = 4 << 20

var processRe = regexp.MustCompile(`^[0-9A-Za-z_-]+$`)

var wallets = map[string]bool{"wechat": true, "alipay": true, "unionpay_qr": true}

// Validate checks the configuration as a whole.
func (c Config) Validate() error {
	var errs []error
	if !tidRe.MatchString(c.Terminal.TID) {
		errs = append(errs, fmt.Errorf("terminal.tid %q must be 8 letters or digits", c.Terminal.TID))
	}
	if c.Flows.Workers < 0 || c.Flows.Workers > 16 {
		errs = append(errs, fmt.Errorf("flows.workers = %d: want 0 (flows inside posrt) to 16 worker processes", c.Flows.Workers))
	}
	if _, err := c.Flows.MemoryLimitBytes(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.Flows.TimeoutDuration(); err != nil {
		errs = append(errs, err)
	}
	if !midRe.MatchString(c.Terminal.MID) {
		errs = append(errs, fmt.Errorf("terminal.mid %q must be 15 letters or digits", c.Terminal.MID))
	}
	count := map[string]int{}
	for i, p := range c.Plugins {
		where := fmt.Sprintf("plugin %d (%q)", i+1, p.Name)
		switch {
		case p.Name == "":
			errs = append(errs, fmt.Errorf("plugin %d has no name", i+1))
		case p.Builtin == "" && p.Path == "":
			errs = append(errs, fmt.Errorf("%s needs builtin or path", where))
		case p.Builtin != "" && p.Path != "":
			errs = append(errs, fmt.Errorf("%s has both builtin and path", where))
		case p.Path != "" && p.SHA256 == "":
			errs = append(errs, fmt.Errorf("%s: path %s needs its sha256 (run: sha256sum %s)", where, p.Path, p.Path))
		}
		if p.CallTimeout != "" {
			if _, err := time.ParseDuration(p.CallTimeout); err != nil {
				errs = append(errs, fmt.Errorf("%s: call_timeout %q is not a duration such as 30s", where, p.CallTimeout))
			}
		}
		switch {
		case p.Kind == base.KindWallet && !wallets[p.Medium]:
			errs = append(errs, fmt.Errorf("%s: a wallet plugin needs medium = \"wechat\", \"alipay\" or \"unionpay_qr\", not %q", where, p.Medium))
		case p.Kind == base.KindWallet && count["wallet/"+p.Medium] > 0:
			errs = append(errs, fmt.Errorf("%s: a second plugin for %s", where, p.Medium))
		case p.Kind != base.KindWallet && p.Medium != "":
			errs = append(errs, fmt.Errorf("%s: medium is for wallet plugins only", where))
		}
		if p.Process != "" && !processRe.MatchString(p.Process) {
			errs = append(errs, fmt.Errorf("%s: process %q must be letters, digits, - or _", where, p.Process))
		}
		if !knownKinds[p.Kind] {
			errs = append(errs, fmt.Errorf("%s: unknown kind %q (pinpad, printer, scanner, acquirer, wallet)", where, p.Kind))
		}
		count[p.Kind]++
		count["wallet/"+p.Medium]++
	}
	errs = append(errs, c.validateProcesses()...)
	errs = append(errs, c.validateSimulators()...)
	errs = append(errs, c.validateQR(count)...)
	if c.ECR.Token != "" && len(c.ECR.Token) < 16 {
		errs = append(errs, fmt.Errorf("ecr.token must be at least 16 characters"))
	}
	for name, d := range map[string]string{"retry_backoff": c.Resolve.RetryBackoff, "max_backoff": c.Resolve.MaxBackoff,
		"wallet_poll_every": c.Resolve.WalletPollEvery, "wallet_poll_for": c.Resolve.WalletPollFor} {
		if d == "" {
			continue
		}
		if v, err := time.ParseDuration(d); err != nil || v <= 0 {
			errs = append(errs, fmt.Errorf("resolve.%s %q is not a positive duration such as 10s", name, d))
		}
	}
	for name, l := range map[string]string{"tamper_active": c.GPIO.TamperActive, "drawer_open": c.GPIO.DrawerOpen} {
		if l != "" && l != string(gpio.Low) && l != string(gpio.High) {
			errs = append(errs, fmt.Errorf("gpio.%s = %q: want low or high", name, l))
		}
	}
	if d := c.GPIO.Debounce; d != "" {
		if v, err := time.ParseDuration(d); err != nil || v <= 0 || v > time.Second {
			errs = append(errs, fmt.Errorf("gpio.debounce %q: want a duration up to 1s, such as 50ms", d))
		}
	}
	if c.Operators.LockMinutes < 0 {
		errs = append(errs, fmt.Errorf("operators.lock_minutes = %d: want minutes", c.Operators.LockMinutes))
	}
	if c.History.RetentionDays < -1 {
		errs = append(errs, fmt.Errorf("history.retention_days = %d: want a number of days, or -1 to keep every record", c.History.RetentionDays))
	}
	if c.Settle.MaxRecords < -1 {
		errs = append(errs, fmt.Errorf("settlement.max_records = %d: want a number of records, or -1 for no limit", c.Settle.MaxRecords))
	}
	if c.Settle.AutoAt != "" {
		if _, err := time.Parse("15:04", c.Settle.AutoAt); err != nil {
			errs = append(errs, fmt.Errorf("settlement.auto_at %q: want a time of day HH:MM", c.Settle.AutoAt))
		}
	}
	if n, err := c.Runtime.PluginMemoryLimitBytes(); err != nil {
		errs = append(errs, fmt.Errorf("runtime.plugin_memory_limit: %w", err))
	} else if c.Runtime.PluginMemoryLimit != "" && n < minPluginMemoryLimit {
		errs = append(errs, fmt.Errorf("runtime.plugin_memory_limit %q is below the 4MiB a plugin needs to run", c.Runtime.PluginMemoryLimit))
	}
	if n, err := c.Runtime.MemoryLimitBytes(); err != nil {
		errs = append(errs, fmt.Errorf("runtime.memory_limit: %w", err))
	} else if c.Runtime.MemoryLimit != "" && n < minMemoryLimit {
		errs = append(errs, fmt.Errorf("runtime.memory_limit %q is below the 8MiB posrt needs to run", c.Runtime.MemoryLimit))
	}
	if c.Resolve.ReversalAttempts < 0 {
		errs = append(errs, fmt.Errorf("resolve.reversal_attempts must not be negative"))
	}
	for _, k := range required {
		if count[k] != 1 {
			errs = append(errs, fmt.Errorf("exactly one %s plugin is needed, found %d", k, count[k]))
		}
	}
	if count[base.KindScanner] > 1 {
		errs = append(errs, fmt.Errorf("at most one scanner plugin, found %d", count[base.KindScanner]))
	}
	return errors.Join(errs...)
}

// validateSimulators checks the [[simulator]] entries (known kinds, each
// once, addresses host:port) and that every "{sim.<kind>}" placeholder in
// a plugin's config names a configured simulator.
func (c Config) validateSimulators() []error {
	var errs []error
	seen := map[simset.Kind]bool{}
	for i, s := range c.Simulators {
		where := fmt.Sprintf("simulator %d (%q)", i+1, s.Kind)
		switch {
		case !simset.Known(s.Kind):
			var kinds []string
			for _, k := range simset.Kinds() {
				kinds = append(kinds, string(k))
			}
			errs = append(errs, fmt.Errorf("%s: unknown kind: want one of %s", where, strings.Join(kinds, ", ")))
		case seen[s.Kind]:
			errs = append(errs, fmt.Errorf("%s: a second %s simulator", where, s.Kind))
		}
		seen[s.Kind] = true
		for name, a := range map[string]string{"addr": s.Addr, "admin": s.Admin} {
			if a == "" {
				continue
			}
			if _, _, err := net.SplitHostPort(a); err != nil {
				errs = append(errs, fmt.Errorf("%s: %s %q is not host:port, such as 127.0.0.1:0", where, name, a))
			}
		}
	}
	for _, p := range c.Plugins {
		keys := make([]string, 0, len(p.Config))
		for k := range p.Config {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, ref := range simset.Placeholders(p.Config[k]) {
				kind, _, _ := strings.Cut(ref, ".")
				if !seen[simset.Kind(kind)] {
					errs = append(errs, fmt.Errorf("plugin %q: config %s refers to {sim.%s}, but no [[simulator]] has kind = %q", p.Name, k, ref, kind))
				}
			}
		}
	}
	return errs
}

// validateQR checks the [[qr.rule]] entries: each is a rule qr accepts
// (a wallet medium, a name, a pattern that compiles) for the medium of a
// configured wallet plugin (count holds "wallet/<medium>" per plugin).
func (c Config) validateQR(count map[string]int) []error {
	var errs []error
	for i, r := range c.QR.Rules {
		where := fmt.Sprintf("qr.rule %d (%q)", i+1, r.Name)
		if err := (qr.Rule{Medium: journal.Medium(r.Medium), Pattern: r.Pattern, Name: r.Name}).Check(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		} else if count["wallet/"+r.Medium] == 0 {
			errs = append(errs, fmt.Errorf("%s: medium %q has no wallet plugin configured: add a [[plugin]] with kind = \"wallet\" and medium = %q, or remove the rule", where, r.Medium, r.Medium))
		}
	}
	return errs
}

// validateProcesses checks the plugins that share a process: all built-ins
// (posrt serves them as "plugin serve NAME=BUILTIN ...", so a name cannot
// hold "=") or all one vendor executable, run the same way.
func (c Config) validateProcesses() []error {
	var errs []error
	first := map[string]Plugin{}
	for _, p := range c.Plugins {
		if p.Process == "" {
			continue
		}
		if p.Builtin != "" && strings.Contains(p.Name, "=") {
			errs = append(errs, fmt.Errorf("plugin %q: the name of a built-in plugin that shares a process cannot hold \"=\"", p.Name))
		}
		f, ok := first[p.Process]
		if !ok {
			first[p.Process] = p
			continue
		}
		switch {
		case (f.Builtin == "") != (p.Builtin == ""):
			errs = append(errs, fmt.Errorf("plugins %q and %q share process %q but one is built in and the other is a vendor executable: a process runs either posrt's built-ins or one executable", f.Name, p.Name, p.Process))
		case p.Builtin == "" && (f.Path != p.Path || f.SHA256 != p.SHA256 || strings.Join(f.Args, "\x00") != strings.Join(p.Args, "\x00")):
			errs = append(errs, fmt.Errorf("plugins %q and %q share process %q but differ in path, sha256 or args: a shared process is one executable", f.Name, p.Name, p.Process))
		}
	}
	return errs
}

// PluginOf returns the name of the plugin of kind ("" when there is none).
func (c Config) PluginOf(kind string) string {
	for _, p := range c.Plugins {
		if p.Kind == kind {
			return p.Name
		}
	}
	return ""
}
