package operator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/posrt/posrt/internal/durable"
)

// Number is an operator number, two digits "00" to "99".
type Number string

// Valid tells whether n is two decimal digits.
func (n Number) Valid() bool {
	return len(n) == 2 && isDigit(n[0]) && isDigit(n[1])
}

// Role is what an operator may do.
type Role string

const (
	// RoleSupervisor is the supervisor (主管), operator 00: its password
	// allows voids, refunds, settlement, clearing the cache, manual
	// resolution, and unlocking or adding cashiers.
	RoleSupervisor Role = "supervisor"
	// RoleCashier is a cashier (操作员), operators 01 to 99.
	RoleCashier Role = "cashier"
)

const (
	// SupervisorNumber is the supervisor's operator number.
	SupervisorNumber Number = "00"
	// DefaultCashier is the cashier a new terminal has.
	DefaultCashier Number = "01"
	// FileName is the operators file in the data directory.
	FileName = "operators.json"
	// MaxTries is how many wrong passwords in a row lock an operator.
	MaxTries = 5
	// DefaultLockFor is how long a lock lasts unless Options say otherwise.
	DefaultLockFor = 30 * time.Minute
)

// The factory passwords: a new terminal's supervisor 00 has
// defaultSupervisorPassword and cashier 01 defaultCashierPassword. No
// operator may choose them as a new password.
const (
	defaultSupervisorPassword = "123456"
	defaultCashierPassword    = "0000"
)

// Operator is what the store tells of an operator; the password hash
// never leaves the package.
type Operator struct {
	Number Number
	Role   Role
	Name   string
	// FailedTries counts the wrong passwords in a row.
	FailedTries int
	// LockedUntil is when a locked operator unlocks; zero when the
	// operator is not locked (a lock whose time has passed shows until the
	// operator's next try).
	LockedUntil time.Time
	// DefaultPassword is set while the operator's password is the factory
	// one.
	DefaultPassword bool
}

// Options configure a Store. The zero value is the production setting.
type Options struct {
	// LockFor is how long a lock lasts; zero means DefaultLockFor.
	LockFor time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Params hash new passwords (and, at the next successful login, those
	// hashed with other parameters); zero means DefaultParams().
	Params Params
}

// record is an operator with its password hash, as kept in memory and in
// operators.json.
type record struct {
	Number          Number     `json:"number"`
	Role            Role       `json:"role"`
	Name            string     `json:"name"`
	Hash            string     `json:"hash"`
	DefaultPassword bool       `json:"default_password,omitempty"`
	FailedTries     int        `json:"failed_tries"`
	LockedUntil     *time.Time `json:"locked_until,omitempty"`
}

type fileV1 struct {
	Version   int      `json:"version"`
	Operators []record `json:"operators"`
}

const fileVersion = 1

// Store holds the terminal's operators, kept in <data-dir>/operators.json.
// It is safe for concurrent use; its methods run one at a time, password
// hashing included, so that concurrent wrong tries are all counted. Every
// change (a wrong try counted, a lock, an unlock, a new password, an
// operator added or removed) is written to operators.json durably before
// the method returns; when that write fails the method returns the write
// error instead of its answer. A wrong try is counted in memory even
// then, so a failing disk does not grant more tries.
type Store struct {
	mu      sync.Mutex
	path    string
	lockFor time.Duration
	now     func() time.Time
	params  Params
	ops     map[Number]*record
}

// Open opens the operators of dataDir. A missing operators.json means the
// factory operators (supervisor 00, cashier 01, default passwords), which
// are written to the file at their first change. An operators.json that
// cannot be parsed, or holds an invalid operator, is refused with an
// error wrapping ErrCorrupt, and one that others may read is refused: a
// store is never reset to its defaults behind the deployer's back.
func Open(dataDir string, o Options) (*Store, error) {
	s := &Store{path: filepath.Join(dataDir, FileName), lockFor: o.LockFor, now: o.Now, params: o.Params}
	if s.lockFor <= 0 {
		s.lockFor = DefaultLockFor
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.params == (Params{}) {
		s.params = DefaultParams()
	}
	if err := s.params.valid(); err != nil {
		return nil, fmt.Errorf("opening the operators: %w", err)
	}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := s.setDefaults(); err != nil {
			return nil, fmt.Errorf("opening the operators: %w", err)
		}
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the operators: %w", err)
	}
	if st, err := os.Stat(s.path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %v): chmod 600 it", s.path, st.Mode().Perm())
	}
	ops, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", s.path, ErrCorrupt, err)
	}
	s.ops = ops
	return s, nil
}

func (s *Store) setDefaults() error {
	sup, err := hashPassword(s.params, defaultSupervisorPassword)
	if err != nil {
		return err
	}
	cas, err := hashPassword(s.params, defaultCashierPassword)
	if err != nil {
		return err
	}
	s.ops = map[Number]*record{
		SupervisorNumber: {Number: SupervisorNumber, Role: RoleSupervisor, Name: "Supervisor", Hash: sup, DefaultPassword: true},
		DefaultCashier:   {Number: DefaultCashier, Role: RoleCashier, Name: "Cashier 01", Hash: cas, DefaultPassword: true},
	}
	return nil
}

// parse reads and checks an operators file.
func parse(b []byte) (map[Number]*record, error) {
	var f fileV1
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	if f.Version != fileVersion {
		return nil, fmt.Errorf("version %d, want %d", f.Version, fileVersion)
	}
	ops := make(map[Number]*record, len(f.Operators))
	for i := range f.Operators {
		r := &f.Operators[i]
		if !r.Number.Valid() {
			return nil, fmt.Errorf("operator number %q is not two digits", r.Number)
		}
		if ops[r.Number] != nil {
			return nil, fmt.Errorf("operator %s appears twice", r.Number)
		}
		if want := roleOf(r.Number); r.Role != want {
			return nil, fmt.Errorf("operator %s has role %q, want %q", r.Number, r.Role, want)
		}
		if _, _, _, err := decodeHash(r.Hash); err != nil {
			return nil, fmt.Errorf("operator %s: %w", r.Number, err)
		}
		if r.FailedTries < 0 || r.FailedTries > MaxTries {
			return nil, fmt.Errorf("operator %s has %d failed tries", r.Number, r.FailedTries)
		}
		if r.LockedUntil != nil && r.LockedUntil.IsZero() {
			r.LockedUntil = nil
		}
		ops[r.Number] = r
	}
	if ops[SupervisorNumber] == nil {
		return nil, errors.New("no supervisor 00")
	}
	return ops, nil
}

func roleOf(n Number) Role {
	if n == SupervisorNumber {
		return RoleSupervisor
	}
	return RoleCashier
}

// save writes every operator to operators.json durably.
func (s *Store) save() error {
	f := fileV1{Version: fileVersion}
	for _, n := range s.numbers() {
		f.Operators = append(f.Operators, *s.ops[n])
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the operators: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("creating the data directory: %w", err)
	}
	if err := durable.WriteFile(s.path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing the operators: %w", err)
	}
	return nil
}

func (s *Store) numbers() []Number {
	ns := make([]Number, 0, len(s.ops))
	for n := range s.ops {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

func (r *record) operator() Operator {
	o := Operator{Number: r.Number, Role: r.Role, Name: r.Name, FailedTries: r.FailedTries, DefaultPassword: r.DefaultPassword}
	if r.LockedUntil != nil {
		o.LockedUntil = *r.LockedUntil
	}
	return o
}

// check verifies no's password, counting a wrong one (and locking at
// MaxTries) or clearing the count on a right one, and persists what
// changed before it answers. A locked operator's password is not even
// hashed. s.mu is held.
func (s *Store) check(ctx context.Context, no Number, password string) (*record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := s.ops[no]
	if r == nil {
		return nil, &Error{Code: CodeUnknownOperator, Number: no}
	}
	now := s.now()
	changed := false
	if r.LockedUntil != nil {
		until := *r.LockedUntil
		if now.Before(until) {
			if until.Sub(now) > s.lockFor {
				// The clock went back (a terminal without a clock battery, a
				// time sync): the lock lasts LockFor from now, not the jump.
				until = now.Add(s.lockFor)
				r.LockedUntil = &until
				if err := s.save(); err != nil {
					return nil, fmt.Errorf("shortening the lock of operator %s: %w", no, err)
				}
			}
			return nil, &Error{Code: CodeLocked, Number: no, Until: until}
		}
		r.LockedUntil, r.FailedTries, changed = nil, 0, true
	}
	ok, params, err := verifyPassword(r.Hash, password)
	if err != nil {
		return nil, fmt.Errorf("verifying the password of operator %s: %w", no, err)
	}
	if !ok {
		r.FailedTries++
		var answer error = &Error{Code: CodeWrongPassword, Number: no, TriesLeft: MaxTries - r.FailedTries}
		if r.FailedTries >= MaxTries {
			until := now.Add(s.lockFor)
			r.LockedUntil = &until
			answer = &Error{Code: CodeLocked, Number: no, Until: until}
		}
		if err := s.save(); err != nil {
			return nil, fmt.Errorf("counting a wrong password of operator %s: %w", no, err)
		}
		return nil, answer
	}
	if r.FailedTries != 0 {
		r.FailedTries, changed = 0, true
	}
	if params != s.params {
		if h, err := hashPassword(s.params, password); err == nil {
			r.Hash, changed = h, true
		}
	}
	if changed {
		if err := s.save(); err != nil {
			return nil, fmt.Errorf("clearing the failed tries of operator %s: %w", no, err)
		}
	}
	return r, nil
}

// Login checks operator no's password and returns the operator. A wrong
// password is a *Error with CodeWrongPassword and the tries left; the
// MaxTries-th in a row locks the operator and is answered CodeLocked with
// the time it unlocks, as is every try while locked.
func (s *Store) Login(ctx context.Context, no Number, password string) (Operator, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.check(ctx, no, password)
	if err != nil {
		return Operator{}, err
	}
	return r.operator(), nil
}

// Verify is Login without the operator: it checks operator no's password
// with the same counting and lockout.
func (s *Store) Verify(ctx context.Context, no Number, password string) error {
	_, err := s.Login(ctx, no, password)
	return err
}

// Supervisor checks the supervisor's password, as a void, a refund, a
// settlement, clearing the cache or a manual resolution requires. A wrong
// password counts towards the supervisor's own lockout; a locked
// supervisor is unlocked only by time, since nobody is above it.
func (s *Store) Supervisor(ctx context.Context, password string) error {
	return s.Verify(ctx, SupervisorNumber, password)
}

// AsSupervisor is Supervisor for a front end that asks for an operator
// number too: a number that is not the supervisor's is CodeNotSupervisor
// (no try is counted), else the password is checked as Supervisor does.
func (s *Store) AsSupervisor(ctx context.Context, no Number, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.ops[no]
	if r == nil {
		return &Error{Code: CodeUnknownOperator, Number: no}
	}
	if r.Role != RoleSupervisor {
		return &Error{Code: CodeNotSupervisor, Number: no}
	}
	_, err := s.check(ctx, no, password)
	return err
}

// ChangePassword replaces operator no's password oldPassword with
// newPassword, once oldPassword is verified (a wrong one counts as a wrong
// try). newPassword must be 4 to 8 digits for a cashier, 6 to 8 for the
// supervisor, differ from the old one and be no factory password; else the
// answer is CodeWeakPassword and no try is counted.
func (s *Store) ChangePassword(ctx context.Context, no Number, oldPassword, newPassword string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.ops[no]
	if r == nil {
		return &Error{Code: CodeUnknownOperator, Number: no}
	}
	if err := checkPassword(no, r.Role, newPassword); err != nil {
		return err
	}
	if newPassword == oldPassword {
		return &Error{Code: CodeWeakPassword, Number: no, Reason: "the new password is the old one"}
	}
	if _, err := s.check(ctx, no, oldPassword); err != nil {
		return err
	}
	return s.setPassword(r, newPassword)
}

// setPassword hashes password into r and persists it; r is left as it
// was when that fails. s.mu is held.
func (s *Store) setPassword(r *record, password string) error {
	h, err := hashPassword(s.params, password)
	if err != nil {
		return err
	}
	was := *r
	r.Hash, r.DefaultPassword, r.FailedTries, r.LockedUntil = h, false, 0, nil
	if err := s.save(); err != nil {
		*r = was
		return fmt.Errorf("changing the password of operator %s: %w", r.Number, err)
	}
	return nil
}

// checkPassword applies the password rules for an operator of role.
func checkPassword(no Number, role Role, password string) error {
	low := 4
	if role == RoleSupervisor {
		low = 6
	}
	weak := func(reason string) error { return &Error{Code: CodeWeakPassword, Number: no, Reason: reason} }
	if len(password) < low || len(password) > 8 {
		return weak(fmt.Sprintf("a %s password has %d to 8 digits", role, low))
	}
	for i := 0; i < len(password); i++ {
		if !isDigit(password[i]) {
			return weak("a password has digits only")
		}
	}
	if password == defaultSupervisorPassword || password == defaultCashierPassword {
		return weak("a factory password cannot be chosen")
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// authorize checks the supervisor's password for a supervisor's action.
// s.mu is held.
func (s *Store) authorize(ctx context.Context, supervisorPassword string) error {
	_, err := s.check(ctx, SupervisorNumber, supervisorPassword)
	return err
}

// Unlock clears operator no's lock and failed tries, once the
// supervisor's password is verified. The supervisor cannot unlock itself
// (its password is refused while it is locked): only time does.
func (s *Store) Unlock(ctx context.Context, supervisorPassword string, no Number) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.authorize(ctx, supervisorPassword); err != nil {
		return err
	}
	r := s.ops[no]
	if r == nil {
		return &Error{Code: CodeUnknownOperator, Number: no}
	}
	if r.FailedTries == 0 && r.LockedUntil == nil {
		return nil
	}
	was := *r
	r.FailedTries, r.LockedUntil = 0, nil
	if err := s.save(); err != nil {
		*r = was
		return fmt.Errorf("unlocking operator %s: %w", no, err)
	}
	return nil
}

// ResetPassword sets cashier no's password to password (a cashier who
// forgot it), once the supervisor's password is verified; the cashier's
// lock is cleared. The password rules of ChangePassword apply.
func (s *Store) ResetPassword(ctx context.Context, supervisorPassword string, no Number, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.ops[no]
	if r == nil {
		return &Error{Code: CodeUnknownOperator, Number: no}
	}
	if r.Role != RoleCashier {
		return &Error{Code: CodeNotCashier, Number: no, Reason: "the supervisor changes its own password"}
	}
	if err := checkPassword(no, r.Role, password); err != nil {
		return err
	}
	if err := s.authorize(ctx, supervisorPassword); err != nil {
		return err
	}
	return s.setPassword(r, password)
}

// Add adds cashier no (01 to 99) named name with password, once the
// supervisor's password is verified. An operator no that exists is
// CodeOperatorExists.
func (s *Store) Add(ctx context.Context, supervisorPassword string, no Number, name string, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !no.Valid() {
		return &Error{Code: CodeUnknownOperator, Number: no, Reason: "an operator number is two digits"}
	}
	if s.ops[no] != nil {
		return &Error{Code: CodeOperatorExists, Number: no}
	}
	if err := checkPassword(no, RoleCashier, password); err != nil {
		return err
	}
	if err := s.authorize(ctx, supervisorPassword); err != nil {
		return err
	}
	h, err := hashPassword(s.params, password)
	if err != nil {
		return err
	}
	s.ops[no] = &record{Number: no, Role: RoleCashier, Name: name, Hash: h}
	if err := s.save(); err != nil {
		delete(s.ops, no)
		return fmt.Errorf("adding operator %s: %w", no, err)
	}
	return nil
}

// Remove removes cashier no, once the supervisor's password is verified.
// The supervisor cannot be removed.
func (s *Store) Remove(ctx context.Context, supervisorPassword string, no Number) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.ops[no]
	if r == nil {
		return &Error{Code: CodeUnknownOperator, Number: no}
	}
	if r.Role != RoleCashier {
		return &Error{Code: CodeNotCashier, Number: no, Reason: "the supervisor cannot be removed"}
	}
	if err := s.authorize(ctx, supervisorPassword); err != nil {
		return err
	}
	delete(s.ops, no)
	if err := s.save(); err != nil {
		s.ops[no] = r
		return fmt.Errorf("removing operator %s: %w", no, err)
	}
	return nil
}

// Operators lists the operators by number.
func (s *Store) Operators() []Operator {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Operator
	for _, n := range s.numbers() {
		out = append(out, s.ops[n].operator())
	}
	return out
}

// DefaultsInUse names, by number, the operators whose password is still
// the factory one: the warning /v1/status and the console show.
func (s *Store) DefaultsInUse() []Number {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Number
	for _, n := range s.numbers() {
		if s.ops[n].DefaultPassword {
			out = append(out, n)
		}
	}
	return out
}
