package terminal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/posrt/posrt/internal/durable"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/operator"
	"github.com/posrt/posrt/runtime/txn"
)

// The codes of operations refused by the terminal's state.
const (
	// CodeLocked: the terminal is locked until an operator logs in.
	CodeLocked = "terminal_locked"
	// CodeProtected: the terminal is in protection mode.
	CodeProtected = txn.CodeProtected
)

// The access flows: each runs through RunAccess.
const (
	FlowLogin            = "login"
	FlowLock             = "lock"
	FlowProtectionUnlock = "protection_unlock"
	FlowClearCache       = "clear_cache"
)

// Credentials is how a front end hands over a password the runtime asks
// it for during an access flow (the console reads a line, the ECR API
// takes it from the request, a test scripts it): posrt checks it, the
// flow never sees it.
type Credentials interface {
	// Operator returns who logs in: their number and password.
	Operator(ctx context.Context) (operator.Number, string, error)
	// Supervisor returns the supervisor's password.
	Supervisor(ctx context.Context) (string, error)
}

// Protection is why and since when the terminal is in protection mode;
// Failures counts the wrong unlock passwords in a row, and from the third
// one on the next try waits until NotBefore (30 s, doubling, at most an
// hour): kept in the protection file, so a restart does not reset it.
type Protection struct {
	Reason    string    `json:"reason"`
	Since     time.Time `json:"since"`
	Failures  int       `json:"failures,omitempty"`
	NotBefore time.Time `json:"not_before,omitzero"`
}

// CodeUnlockWait: the unlock of protection mode waits after three wrong
// passwords.
const CodeUnlockWait = "unlock_wait"

// unlockBackoff is the wait after the n-th wrong unlock password (n >= 3).
func unlockBackoff(n int) time.Duration {
	return min(30*time.Second<<(n-3), time.Hour)
}

// access is who works the terminal and whether it is locked or protected.
type access struct {
	operator   operator.Operator // zero: nobody logged in
	locked     bool
	protection *Protection
	// eraseDue: the terminal started protected, and the PIN pad (which
	// keeps its keys across posrt's restarts) is still to be told to erase
	// its working keys.
	eraseDue bool
}

// loadProtection reads the protection file: a terminal protected when it
// stopped is protected when it starts. A file that cannot be read keeps
// the terminal protected (the supervisor unlocks it).
func (t *Terminal) loadProtection() {
	if t.cfg.ProtectionFile == "" {
		return
	}
	b, err := os.ReadFile(t.cfg.ProtectionFile)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	p := &Protection{}
	if err == nil {
		err = json.Unmarshal(b, p)
	}
	if err != nil || p.Reason == "" {
		p = &Protection{Reason: fmt.Sprintf("the protection file %s cannot be read (%v)", t.cfg.ProtectionFile, err), Since: t.cfg.Now()}
	}
	t.access.protection = p
	t.access.eraseDue = true
	t.engine.Hold() // the keys are erased by Recover, before anything is served
}

// Protect puts the terminal into protection mode (a tamper switch opened,
// a shock): journaled in the protection file first, so a restart keeps
// it; then every transaction and sign-in is refused and the working keys
// are erased from posrt and the PIN pad. Only the supervisor lifts it
// (the protection_unlock flow), and the terminal signs in afresh.
func (t *Terminal) Protect(ctx context.Context, reason string) error {
	t.accessMu.Lock()
	p := t.access.protection
	if p == nil {
		p = &Protection{Reason: reason, Since: t.cfg.Now()}
		if err := t.saveProtection(p); err != nil {
			t.accessMu.Unlock()
			return err
		}
		t.access.protection = p
	}
	t.accessMu.Unlock()
	t.cfg.Logf("protection mode: %s", reason)
	if err := t.engine.Protect(ctx); err != nil {
		t.cfg.Logf("protection mode: %v", err)
	}
	return nil
}

// Protection reports the terminal's protection mode, nil when not.
func (t *Terminal) Protection() *Protection {
	t.accessMu.Lock()
	defer t.accessMu.Unlock()
	if p := t.access.protection; p != nil {
		c := *p
		return &c
	}
	return nil
}

func (t *Terminal) saveProtection(p *Protection) error {
	if t.cfg.ProtectionFile == "" {
		return nil
	}
	var b []byte
	if p != nil {
		var err error
		if b, err = json.Marshal(p); err != nil {
			return err
		}
	} else if err := os.Remove(t.cfg.ProtectionFile); err == nil || errors.Is(err, os.ErrNotExist) {
		return nil
	} else {
		return fmt.Errorf("lifting protection mode: %w", err)
	}
	if err := durable.WriteFile(t.cfg.ProtectionFile, b, 0o600); err != nil {
		return fmt.Errorf("recording protection mode: %w", err)
	}
	return nil
}

// barred is why the terminal takes no operation now: protection mode or
// a lock; nil when it takes one.
func (t *Terminal) barred() error {
	t.accessMu.Lock()
	defer t.accessMu.Unlock()
	if p := t.access.protection; p != nil {
		return &flow.Error{Code: CodeProtected, Message: fmt.Sprintf(
			"the terminal is in protection mode (%s, since %s): it takes no transaction until the supervisor lifts it (protection_unlock) and it signs in again",
			p.Reason, p.Since.Format("2006-01-02 15:04"))}
	}
	if t.access.locked {
		return &flow.Error{Code: CodeLocked, Message: "the terminal is locked: an operator logs in to unlock it"}
	}
	return nil
}

// RunAccess runs one of the access flows (login, lock,
// protection_unlock, clear_cache) with the front end's UI and
// credentials; it waits for no transaction (busy while one runs).
func (t *Terminal) RunAccess(ctx context.Context, name string, ui flow.UI, cred Credentials) (map[string]any, error) {
	switch name {
	case FlowLogin, FlowLock, FlowProtectionUnlock, FlowClearCache:
	default:
		return nil, &flow.Error{Code: txn.CodeInvalidOperation, Message: fmt.Sprintf("%q is not an access flow (login, lock, protection_unlock, clear_cache)", name)}
	}
	if !t.busy.TryLock() {
		return nil, &flow.Error{Code: CodeBusy, Message: "the terminal is busy with a transaction; try again when it is done"}
	}
	defer t.busy.Unlock()
	h := &accessHost{t: t, cred: cred}
	return t.cfg.Flows.Run(ctx, flow.Host{UI: ui, Terminal: h, Access: h}, name, map[string]any{"kind": name})
}

// accessHost is an access flow's host: posrt.terminal with its guarded
// steps, each password asked of the front end's credentials.
type accessHost struct {
	t    *Terminal
	cred Credentials
	// supervised: the supervisor's password was checked in this run.
	supervised bool
}

func (h *accessHost) Info(context.Context) (flow.TerminalView, error) { return h.t.terminalView() }

func (h *accessHost) Login(ctx context.Context) (flow.OperatorView, error) {
	if h.cred == nil {
		return flow.OperatorView{}, &flow.Error{Code: "credentials_required", Message: "this front end cannot ask for an operator's password"}
	}
	no, pw, err := h.cred.Operator(ctx)
	if err != nil {
		return flow.OperatorView{}, cashierError(err)
	}
	if h.t.cfg.Operators == nil {
		return flow.OperatorView{}, &flow.Error{Code: "internal", Message: "the terminal has no operator store"}
	}
	op, err := h.t.cfg.Operators.Login(ctx, no, pw)
	if err != nil {
		return flow.OperatorView{}, &flow.Error{Code: operator.Code(err), Message: err.Error()}
	}
	h.t.accessMu.Lock()
	h.t.access.operator, h.t.access.locked = op, false
	h.t.accessMu.Unlock()
	h.t.cfg.Logf("operator %s (%s) logged in", op.Number, op.Role)
	return flow.OperatorView{Number: string(op.Number), Role: string(op.Role), FactoryPassword: op.DefaultPassword}, nil
}

func (h *accessHost) Lock(context.Context) error {
	h.t.accessMu.Lock()
	h.t.access.locked = true
	h.t.accessMu.Unlock()
	h.t.cfg.Logf("terminal locked")
	return nil
}

// supervisor checks the supervisor's password, once a run.
func (h *accessHost) supervisor(ctx context.Context) error {
	if h.supervised {
		return nil
	}
	if h.cred == nil {
		return &flow.Error{Code: "supervisor_required", Message: "this needs the supervisor's password, which this front end cannot ask for"}
	}
	pw, err := h.cred.Supervisor(ctx)
	if err != nil {
		return cashierError(err)
	}
	if err := h.t.Supervisor(ctx, pw); err != nil {
		return err
	}
	h.supervised = true
	return nil
}

func (h *accessHost) UnlockProtection(ctx context.Context) (flow.TerminalView, error) {
	p := h.t.Protection()
	if p == nil {
		return flow.TerminalView{}, &flow.Error{Code: "not_protected", Message: "the terminal is not in protection mode"}
	}
	if now := h.t.cfg.Now(); now.Before(p.NotBefore) {
		return flow.TerminalView{}, &flow.Error{Code: CodeUnlockWait, Message: fmt.Sprintf(
			"%d wrong unlock passwords in a row: the next try is at %s", p.Failures, p.NotBefore.In(now.Location()).Format("15:04:05"))}
	}
	if err := h.supervisor(ctx); err != nil {
		if code := flow.AsError(err).Code; code == "wrong_password" || code == "supervisor_required" {
			h.t.unlockFailed()
		}
		return flow.TerminalView{}, err
	}
	h.t.accessMu.Lock()
	err := h.t.saveProtection(nil)
	if err == nil {
		h.t.access.protection = nil
	}
	h.t.accessMu.Unlock()
	if err != nil {
		return flow.TerminalView{}, &flow.Error{Code: CodeJournalError, Message: err.Error()}
	}
	h.t.engine.Unprotect()
	h.t.cfg.Logf("protection mode lifted by the supervisor; the terminal signs in before its next card operation")
	return h.t.terminalView()
}

// unlockFailed counts a wrong unlock password in the protection file.
func (t *Terminal) unlockFailed() {
	t.accessMu.Lock()
	defer t.accessMu.Unlock()
	p := t.access.protection
	if p == nil {
		return
	}
	next := *p
	next.Failures++
	if next.Failures >= 3 {
		next.NotBefore = t.cfg.Now().Add(unlockBackoff(next.Failures))
	}
	if err := t.saveProtection(&next); err != nil {
		t.cfg.Logf("protection mode: counting a wrong unlock password: %v", err)
	}
	*p = next
}

func (h *accessHost) ClearCache(ctx context.Context, a flow.ClearArgs) (flow.ClearView, error) {
	if err := h.supervisor(ctx); err != nil {
		return flow.ClearView{}, err
	}
	rep, err := h.t.clearCache(ctx, a.Force)
	if err != nil {
		return flow.ClearView{}, err
	}
	return flow.ClearView{Records: rep.Records, Export: rep.Export, Batch: rep.Batch, NextTrace: rep.NextTrace}, nil
}
