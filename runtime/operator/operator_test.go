package operator

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDefaultsLogIn(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, newClock())
	sup, err := s.Login(ctx, "00", "123456")
	if err != nil || sup.Role != RoleSupervisor || sup.Number != "00" {
		t.Fatalf("supervisor login: %+v, %v", sup, err)
	}
	cas, err := s.Login(ctx, "01", "0000")
	if err != nil || cas.Role != RoleCashier || !cas.DefaultPassword {
		t.Fatalf("cashier login: %+v, %v", cas, err)
	}
	if got := s.DefaultsInUse(); !slices.Equal(got, []Number{"00", "01"}) {
		t.Errorf("DefaultsInUse = %v, want [00 01]", got)
	}
	if err := s.Supervisor(ctx, "123456"); err != nil {
		t.Errorf("Supervisor: %v", err)
	}
	wantCode(t, s.Verify(ctx, "02", "0000"), CodeUnknownOperator)
	wantCode(t, s.Verify(ctx, "1", "0000"), CodeUnknownOperator)
	if _, err := os.Stat(filepath.Join(dir, FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("right passwords wrote operators.json: %v", err)
	}
}

func TestLockoutSurvivesRestartAndUnlocksWithTime(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	// Each wrong try is made by a fresh store on the same directory, as
	// after a reboot: the count must come from the file.
	for i := 1; i < MaxTries; i++ {
		s := open(t, dir, c)
		e := wantCode(t, s.Verify(ctx, "01", "9999"), CodeWrongPassword)
		if e.TriesLeft != MaxTries-i || !errors.Is(e, ErrWrongPassword) {
			t.Fatalf("try %d: %+v, want %d tries left", i, e, MaxTries-i)
		}
	}
	s := open(t, dir, c)
	e := wantCode(t, s.Verify(ctx, "01", "9999"), CodeLocked)
	want := c.Now().Add(DefaultLockFor)
	if !e.Until.Equal(want) || !errors.Is(e, ErrLocked) {
		t.Fatalf("lock %+v, want until %v", e, want)
	}
	s = open(t, dir, c)
	if o := find(t, s, "01"); !o.LockedUntil.Equal(want) || o.FailedTries != MaxTries {
		t.Fatalf("reopened: %+v", o)
	}
	// The right password is refused while locked, and not counted.
	wantCode(t, s.Verify(ctx, "01", "0000"), CodeLocked)
	c.Add(DefaultLockFor - time.Second)
	wantCode(t, open(t, dir, c).Verify(ctx, "01", "0000"), CodeLocked)
	c.Add(time.Second)
	s = open(t, dir, c)
	if _, err := s.Login(ctx, "01", "0000"); err != nil {
		t.Fatalf("login after the lock: %v", err)
	}
	if o := find(t, open(t, dir, c), "01"); o.FailedTries != 0 || !o.LockedUntil.IsZero() {
		t.Errorf("after the lock: %+v, want cleared on disk", o)
	}
	// A lock that expired gives a fresh count, not one try.
	wantCode(t, s.Verify(ctx, "01", "9999"), CodeWrongPassword)
}

func TestRightPasswordClearsCount(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := open(t, dir, c)
	for range MaxTries - 1 {
		wantCode(t, s.Verify(ctx, "01", "1111"), CodeWrongPassword)
	}
	if err := s.Verify(ctx, "01", "0000"); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir, c)
	e := wantCode(t, s.Verify(ctx, "01", "1111"), CodeWrongPassword)
	if e.TriesLeft != MaxTries-1 {
		t.Errorf("tries left %d after a right password, want %d", e.TriesLeft, MaxTries-1)
	}
}

func TestSupervisorUnlocksCashier(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := open(t, dir, c)
	for range MaxTries {
		_ = s.Verify(ctx, "01", "1234")
	}
	wantCode(t, s.Verify(ctx, "01", "0000"), CodeLocked)
	// A wrong supervisor password unlocks nothing and counts for 00.
	wantCode(t, s.Unlock(ctx, "654321", "01"), CodeWrongPassword)
	if o := find(t, s, "00"); o.FailedTries != 1 {
		t.Errorf("supervisor failed tries %d, want 1", o.FailedTries)
	}
	wantCode(t, s.Unlock(ctx, "0000", "01"), CodeWrongPassword) // the cashier's password is no supervisor's
	wantCode(t, s.Unlock(ctx, "123456", "07"), CodeUnknownOperator)
	if err := s.Unlock(ctx, "123456", "01"); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	if o := find(t, s, "00"); o.FailedTries != 0 {
		t.Errorf("supervisor failed tries %d after its right password, want 0", o.FailedTries)
	}
	s = open(t, dir, c)
	if _, err := s.Login(ctx, "01", "0000"); err != nil {
		t.Fatalf("login after Unlock, reopened: %v", err)
	}
}

func TestSupervisorCheckAndItsLock(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := open(t, dir, c)
	if err := s.Supervisor(ctx, "123456"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.AsSupervisor(ctx, "01", "0000"), CodeNotSupervisor)
	if err := s.AsSupervisor(ctx, "00", "123456"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < MaxTries; i++ {
		e := wantCode(t, s.Supervisor(ctx, "0000"), CodeWrongPassword)
		if e.Number != "00" || e.TriesLeft != MaxTries-i {
			t.Fatalf("%+v", e)
		}
	}
	wantCode(t, s.Supervisor(ctx, "000000"), CodeLocked)
	s = open(t, dir, c)
	wantCode(t, s.Supervisor(ctx, "123456"), CodeLocked)
	// Nobody unlocks the supervisor: its own password is refused.
	wantCode(t, s.Unlock(ctx, "123456", "00"), CodeLocked)
	// A cashier is unaffected.
	if _, err := s.Login(ctx, "01", "0000"); err != nil {
		t.Fatal(err)
	}
	c.Add(DefaultLockFor)
	if err := s.Supervisor(ctx, "123456"); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
}

func TestChangePassword(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := open(t, dir, c)
	weak := []struct {
		no       Number
		old, new string
	}{
		{"01", "0000", "123"},
		{"01", "0000", "123456789"},
		{"01", "0000", "12a4"},
		{"01", "0000", "12 34"},
		{"01", "0000", "123456"}, // a factory password
		{"01", "0000", "0000"},   // the old one
		{"00", "123456", "12345"},
		{"00", "123456", "0000"},
		{"00", "123456", "123456"},
	}
	for _, w := range weak {
		e := wantCode(t, s.ChangePassword(ctx, w.no, w.old, w.new), CodeWeakPassword)
		if e.Reason == "" {
			t.Errorf("%s %q: no reason", w.no, w.new)
		}
	}
	if o := find(t, s, "01"); o.FailedTries != 0 {
		t.Errorf("a weak new password counted a try: %+v", o)
	}
	wantCode(t, s.ChangePassword(ctx, "01", "1111", "4829"), CodeWrongPassword)
	if err := s.ChangePassword(ctx, "01", "0000", "4829"); err != nil {
		t.Fatal(err)
	}
	if err := s.ChangePassword(ctx, "00", "123456", "73105826"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.Verify(ctx, "01", "0000"), CodeWrongPassword)
	if err := s.Verify(ctx, "01", "4829"); err != nil {
		t.Fatal(err)
	}
	if got := s.DefaultsInUse(); len(got) != 0 {
		t.Errorf("DefaultsInUse = %v after both changed", got)
	}
	s = open(t, dir, c)
	wantCode(t, s.Verify(ctx, "01", "0000"), CodeWrongPassword)
	wantCode(t, s.Supervisor(ctx, "123456"), CodeWrongPassword)
	if err := s.Verify(ctx, "01", "4829"); err != nil {
		t.Fatalf("new cashier password after reopening: %v", err)
	}
	if err := s.Supervisor(ctx, "73105826"); err != nil {
		t.Fatalf("new supervisor password after reopening: %v", err)
	}
	if got := s.DefaultsInUse(); len(got) != 0 {
		t.Errorf("DefaultsInUse = %v after reopening", got)
	}
}

// TestAtRest reads operators.json after every kind of change and checks
// that it holds hashes only: neither a default nor a chosen password,
// raw, in hex or in base64.
func TestAtRest(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, newClock())
	_ = s.Verify(ctx, "00", "999999") // writes the defaults' hashes
	_ = s.Verify(ctx, "01", "9999")
	if err := s.Add(ctx, "123456", "02", "Li Wei", "58213"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ChangePassword(ctx, "01", "0000", "61937"); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	files := string(b) + "\n" + string(after)
	for _, pw := range []string{"123456", "0000", "58213", "61937", "999999", "9999"} {
		for _, form := range []string{pw, hex.EncodeToString([]byte(pw)), base64.RawStdEncoding.EncodeToString([]byte(pw)), base64.StdEncoding.EncodeToString([]byte(pw))} {
			if strings.Contains(files, form) {
				t.Errorf("operators.json holds %q (password %q)", form, pw)
			}
		}
	}
	if n := strings.Count(string(after), "$argon2id$v=19$m=64,t=1,p=1$"); n != 3 {
		t.Errorf("%d argon2id hashes in operators.json, want 3:\n%s", n, after)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	// Two operators with one password have different salts.
	if err := s.Add(ctx, "123456", "03", "Wang Fang", "58213"); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	h2, h3 := s.ops["02"].Hash, s.ops["03"].Hash
	s.mu.Unlock()
	if h2 == h3 {
		t.Error("one password hashed twice gives one hash: no per-password salt")
	}
}

func TestCorruptFileRefused(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, newClock())
	_ = s.Verify(ctx, "01", "9999")
	path := filepath.Join(dir, FileName)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) string {
		if !strings.Contains(string(good), old) {
			t.Fatalf("%q not in %s", old, good)
		}
		return strings.Replace(string(good), old, new, 1)
	}
	for name, body := range map[string]string{
		"empty":        "",
		"garbage":      "not json",
		"torn":         string(good[:len(good)/2]),
		"version":      replace(`"version": 1`, `"version": 2`),
		"no version":   replace(`"version": 1`, `"versio": 1`),
		"number":       replace(`"number": "01"`, `"number": "1"`),
		"duplicate":    replace(`"number": "01"`, `"number": "00"`),
		"role":         replace(`"role": "cashier"`, `"role": "supervisor"`),
		"hash":         replace(`$argon2id$`, `$argon2i$`),
		"tries":        replace(`"failed_tries": 1`, `"failed_tries": -1`),
		"no operators": `{"version": 1, "operators": []}`,
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(dir, Options{Params: cheap})
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Open of a %s file: %v, want ErrCorrupt naming %s", name, err, path)
			}
			if b, _ := os.ReadFile(path); string(b) != body {
				t.Error("Open rewrote the corrupt file")
			}
		})
	}
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{Params: cheap}); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Open of a readable file: %v", err)
	}
}

// TestWriteFailureWithholdsAnswer puts a directory where the temporary
// file goes, so every write fails: the wrong try is answered with the
// write error (never "wrong password, N left" that is not on disk), still
// counts in memory, and a new password that is not on disk is not taken.
func TestWriteFailureWithholdsAnswer(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := open(t, dir, c)
	block := filepath.Join(dir, FileName+".tmp")
	if err := os.MkdirAll(filepath.Join(block, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	err := s.Verify(ctx, "01", "9999")
	if Code(err) != CodeInternal || HTTPStatus(err) != http.StatusInternalServerError {
		t.Fatalf("wrong try with a failing disk: %v (code %q)", err, Code(err))
	}
	if o := find(t, s, "01"); o.FailedTries != 1 {
		t.Errorf("failed tries %d in memory, want 1", o.FailedTries)
	}
	if Code(s.ChangePassword(ctx, "00", "123456", "918273")) != CodeInternal {
		t.Fatal("a password change with a failing disk succeeded")
	}
	if err := os.RemoveAll(block); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.Supervisor(ctx, "918273"), CodeWrongPassword)
	if err := s.Supervisor(ctx, "123456"); err != nil {
		t.Fatalf("old supervisor password after a failed change: %v", err)
	}
	e := wantCode(t, s.Verify(ctx, "01", "9999"), CodeWrongPassword)
	if e.TriesLeft != MaxTries-2 {
		t.Errorf("tries left %d, want %d: the try of the failing disk was not counted", e.TriesLeft, MaxTries-2)
	}
}

func TestClockBackKeepsLockShort(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := open(t, dir, c)
	for range MaxTries {
		_ = s.Verify(ctx, "01", "9999")
	}
	c.Add(-365 * 24 * time.Hour) // the clock lost a year
	e := wantCode(t, s.Verify(ctx, "01", "0000"), CodeLocked)
	if want := c.Now().Add(DefaultLockFor); !e.Until.Equal(want) {
		t.Fatalf("lock until %v after the clock went back, want %v", e.Until, want)
	}
	c.Add(DefaultLockFor)
	if err := open(t, dir, c).Verify(ctx, "01", "0000"); err != nil {
		t.Fatalf("after LockFor on the moved clock: %v", err)
	}
}

func TestLockForOption(t *testing.T) {
	c := newClock()
	s, err := Open(t.TempDir(), Options{Now: c.Now, Params: cheap, LockFor: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for range MaxTries {
		_ = s.Verify(ctx, "01", "9999")
	}
	c.Add(2 * time.Minute)
	if err := s.Verify(ctx, "01", "0000"); err != nil {
		t.Fatal(err)
	}
}

func TestAddRemoveReset(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := open(t, dir, c)
	wantCode(t, s.Add(ctx, "000000", "05", "Zhao", "2468"), CodeWrongPassword)
	wantCode(t, s.Add(ctx, "123456", "01", "Zhao", "2468"), CodeOperatorExists)
	wantCode(t, s.Add(ctx, "123456", "00", "Zhao", "2468"), CodeOperatorExists)
	wantCode(t, s.Add(ctx, "123456", "5", "Zhao", "2468"), CodeUnknownOperator)
	wantCode(t, s.Add(ctx, "123456", "05", "Zhao", "0000"), CodeWeakPassword)
	if err := s.Add(ctx, "123456", "05", "Zhao", "2468"); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir, c)
	o, err := s.Login(ctx, "05", "2468")
	if err != nil || o.Name != "Zhao" || o.Role != RoleCashier || o.DefaultPassword {
		t.Fatalf("added cashier: %+v, %v", o, err)
	}
	for range MaxTries {
		_ = s.Verify(ctx, "05", "1357")
	}
	wantCode(t, s.ResetPassword(ctx, "123456", "00", "97531"), CodeNotCashier)
	if err := s.ResetPassword(ctx, "123456", "05", "97531"); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir, c)
	if err := s.Verify(ctx, "05", "97531"); err != nil {
		t.Fatalf("reset password (and lock cleared): %v", err)
	}
	wantCode(t, s.Remove(ctx, "123456", "00"), CodeNotCashier)
	wantCode(t, s.Remove(ctx, "123456", "09"), CodeUnknownOperator)
	if err := s.Remove(ctx, "123456", "05"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, open(t, dir, c).Verify(ctx, "05", "97531"), CodeUnknownOperator)
}

// TestConcurrentTries makes many wrong tries at once: each is counted,
// exactly MaxTries are answered before the lock, the rest are locked.
func TestConcurrentTries(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := open(t, dir, c)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[string]int{}
	)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := Code(s.Verify(ctx, "01", "8888"))
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[CodeWrongPassword] != MaxTries-1 || codes[CodeLocked] != 20-(MaxTries-1) {
		t.Fatalf("codes %v", codes)
	}
	if o := find(t, open(t, dir, c), "01"); o.FailedTries != MaxTries || o.LockedUntil.IsZero() {
		t.Fatalf("on disk: %+v", o)
	}
}

func TestRehashWithNewParams(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := open(t, dir, c)
	if err := s.ChangePassword(ctx, "01", "0000", "3141"); err != nil {
		t.Fatal(err)
	}
	stronger := Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	s, err := Open(dir, Options{Now: c.Now, Params: stronger})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(ctx, "01", "3141"); err != nil {
		t.Fatalf("old-parameter hash: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "$m=128,t=2,p=1$") {
		t.Errorf("the login did not rehash with the new parameters:\n%s", b)
	}
	if err := open(t, dir, c).Verify(ctx, "01", "3141"); err != nil {
		t.Fatal(err)
	}
}

func TestContextCancelled(t *testing.T) {
	s := open(t, t.TempDir(), newClock())
	cctx, cancel := contextWithCancel()
	cancel()
	if _, err := s.Login(cctx, "01", "0000"); err == nil {
		t.Fatal("login with a cancelled context succeeded")
	}
	if o := find(t, s, "01"); o.FailedTries != 0 {
		t.Errorf("a cancelled login counted a try")
	}
}

func TestCodeAndHTTPStatus(t *testing.T) {
	for _, tc := range []struct {
		err    error
		code   string
		status int
	}{
		{nil, "", 200},
		{&Error{Code: CodeLocked, Number: "01", Until: time.Now()}, CodeLocked, http.StatusLocked},
		{&Error{Code: CodeWrongPassword, TriesLeft: 2}, CodeWrongPassword, 401},
		{&Error{Code: CodeUnknownOperator}, CodeUnknownOperator, 401},
		{&Error{Code: CodeNotSupervisor}, CodeNotSupervisor, 403},
		{&Error{Code: CodeNotCashier}, CodeNotCashier, 403},
		{&Error{Code: CodeWeakPassword}, CodeWeakPassword, 422},
		{&Error{Code: CodeOperatorExists}, CodeOperatorExists, 409},
		{errors.New("disk"), CodeInternal, 500},
	} {
		wrapped := tc.err
		if wrapped != nil {
			wrapped = errorsJoin("logging in", tc.err)
		}
		if got := Code(wrapped); got != tc.code {
			t.Errorf("Code(%v) = %q, want %q", wrapped, got, tc.code)
		}
		if got := HTTPStatus(wrapped); got != tc.status {
			t.Errorf("HTTPStatus(%v) = %d, want %d", wrapped, got, tc.status)
		}
	}
	if errors.Is(&Error{Code: CodeLocked}, ErrWrongPassword) || !errors.Is(&Error{Code: CodeLocked, Number: "01"}, ErrLocked) {
		t.Error("errors.Is does not tell the codes apart")
	}
}
