package operator

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// The codes of the errors the front ends (ECR API, console, terminal)
// tell apart; Code returns them.
const (
	CodeLocked          = "operator_locked"
	CodeWrongPassword   = "wrong_password"
	CodeUnknownOperator = "unknown_operator"
	CodeNotSupervisor   = "not_supervisor"
	CodeWeakPassword    = "weak_password"
	CodeOperatorExists  = "operator_exists"
	// CodeNotCashier refuses to remove the supervisor or reset its
	// password (only cashiers are added, removed and reset).
	CodeNotCashier = "not_cashier"
	// CodeInternal is any other failure, e.g. operators.json could not be
	// written (the answer is then withheld: see Store).
	CodeInternal = "internal"
)

// Error is an operator error a front end shows the cashier. errors.Is
// matches it against the sentinel of its code (ErrLocked, ...), and
// errors.As gives the details: when a locked operator unlocks, how many
// tries are left before the lock.
type Error struct {
	Code   string
	Number Number
	// Until is when a locked operator unlocks (CodeLocked only).
	Until time.Time
	// TriesLeft is the number of wrong passwords still allowed before the
	// lock (CodeWrongPassword only).
	TriesLeft int
	// Reason says why a password is refused (CodeWeakPassword), or why a
	// request is (other codes); it may be empty.
	Reason string
}

func (e *Error) Error() string {
	msg := e.message()
	if e.Reason != "" && e.Code != CodeWeakPassword {
		msg += ": " + e.Reason
	}
	return msg
}

func (e *Error) message() string {
	who := "operator"
	if e.Number != "" {
		who = "operator " + string(e.Number)
	}
	switch e.Code {
	case CodeLocked:
		if e.Until.IsZero() {
			return who + " is locked"
		}
		return fmt.Sprintf("%s is locked until %s", who, e.Until.Format(time.RFC3339))
	case CodeWrongPassword:
		return fmt.Sprintf("wrong password for %s (%d tries left)", who, e.TriesLeft)
	case CodeUnknownOperator:
		return "unknown " + who
	case CodeNotSupervisor:
		return who + " is not the supervisor"
	case CodeWeakPassword:
		if e.Reason == "" {
			return "weak password"
		}
		return "weak password: " + e.Reason
	case CodeOperatorExists:
		return who + " exists already"
	case CodeNotCashier:
		return who + " is not a cashier"
	}
	return "operator error " + e.Code
}

// Is matches e against the sentinel of its code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Number == "" && t.Until.IsZero() && t.TriesLeft == 0 && t.Reason == ""
}

// The sentinels of the codes, for errors.Is.
var (
	ErrLocked          = &Error{Code: CodeLocked}
	ErrWrongPassword   = &Error{Code: CodeWrongPassword}
	ErrUnknownOperator = &Error{Code: CodeUnknownOperator}
	ErrNotSupervisor   = &Error{Code: CodeNotSupervisor}
	ErrWeakPassword    = &Error{Code: CodeWeakPassword}
	ErrOperatorExists  = &Error{Code: CodeOperatorExists}
	ErrNotCashier      = &Error{Code: CodeNotCashier}
)

// ErrCorrupt is wrapped by Open's error when operators.json exists but
// cannot be read as an operators file. The store is never reset to the
// defaults then: that would reopen the default passwords.
var ErrCorrupt = errors.New("operators file is corrupt")

// Code is the code of err for a front end: one of the Code constants, ""
// for nil, CodeInternal for an error that is no *Error.
func Code(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// HTTPStatus is the HTTP status posrt proposes for err's code on the ECR
// API: 401 for a wrong password or an unknown operator (the credentials
// are wrong), 403 when the operator is not the supervisor or not a
// cashier, 423 Locked for
// a locked operator (with Until for a Retry-After), 422 for a weak new
// password, 409 for an operator that exists already, 500 otherwise, 200
// for nil.
func HTTPStatus(err error) int {
	switch Code(err) {
	case "":
		return http.StatusOK
	case CodeWrongPassword, CodeUnknownOperator:
		return http.StatusUnauthorized
	case CodeNotSupervisor, CodeNotCashier:
		return http.StatusForbidden
	case CodeLocked:
		return http.StatusLocked
	case CodeWeakPassword:
		return http.StatusUnprocessableEntity
	case CodeOperatorExists:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}
