package base

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrorDomain is the errdetails.ErrorInfo domain of posrt's errors.
const ErrorDomain = "posrt"

// Sentinel pairs a kind's sentinel error with the reason it travels under
// and the gRPC code it is sent as.
type Sentinel struct {
	Err    error
	Reason string
	Code   codes.Code
}

// ToStatus turns an error returned by a plugin implementation into a gRPC
// status error: a known sentinel (matched with errors.Is) keeps its reason
// in an ErrorInfo detail; anything else becomes codes.Unknown with its text.
func ToStatus(err error, sentinels []Sentinel) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	for _, s := range sentinels {
		if errors.Is(err, s.Err) {
			st := status.New(s.Code, err.Error())
			if d, derr := st.WithDetails(&errdetails.ErrorInfo{Reason: s.Reason, Domain: ErrorDomain}); derr == nil {
				st = d
			}
			return st.Err()
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}

// ErrUnavailable wraps a call that did not reach the plugin or whose plugin
// went away mid-call (crash, hang, transport failure).
var ErrUnavailable = errors.New("plugin unavailable")

// FromStatus turns a gRPC error received from a plugin back into the kind's
// sentinel, so errors.Is works in the runtime. The plugin's message is kept.
func FromStatus(err error, sentinels []Sentinel) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		info, ok := d.(*errdetails.ErrorInfo)
		if !ok || info.Domain != ErrorDomain {
			continue
		}
		for _, s := range sentinels {
			if s.Reason == info.Reason {
				return wrap(s.Err, st.Message())
			}
		}
	}
	switch st.Code() {
	case codes.DeadlineExceeded:
		return wrap(context.DeadlineExceeded, st.Message())
	case codes.Canceled:
		return wrap(context.Canceled, st.Message())
	case codes.Unavailable:
		return wrap(ErrUnavailable, st.Message())
	}
	return errors.New(st.Message())
}

// wrap returns base with the plugin's message, which usually begins with
// base's own text already.
func wrap(base error, msg string) error {
	if detail, ok := strings.CutPrefix(msg, base.Error()); ok {
		return fmt.Errorf("%w%s", base, detail)
	}
	return fmt.Errorf("%w: %s", base, msg)
}
