package base

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
)

var errPaperOut = errors.New("printer out of paper")

var testSentinels = []Sentinel{{Err: errPaperOut, Reason: "PAPER_OUT", Code: codes.FailedPrecondition}}

func TestSentinelsSurviveTheRoundTrip(t *testing.T) {
	cases := []struct {
		in   error
		is   error
		text string
	}{
		{errPaperOut, errPaperOut, "printer out of paper"},
		{fmt.Errorf("%w: roll empty", errPaperOut), errPaperOut, "printer out of paper: roll empty"},
		{context.DeadlineExceeded, context.DeadlineExceeded, "context deadline exceeded"},
		{errors.New("mechanism broke"), nil, "mechanism broke"},
	}
	for _, c := range cases {
		got := FromStatus(ToStatus(c.in, testSentinels), testSentinels)
		if c.is != nil && !errors.Is(got, c.is) {
			t.Errorf("%v came back as %v, not wrapping %v", c.in, got, c.is)
		}
		if got.Error() != c.text {
			t.Errorf("%v came back as %q, want %q", c.in, got.Error(), c.text)
		}
	}
	if ToStatus(nil, testSentinels) != nil || FromStatus(nil, testSentinels) != nil {
		t.Error("nil did not stay nil")
	}
}

func TestNegotiate(t *testing.T) {
	if v, err := Negotiate([]string{"v2", "v1"}, []string{"v1", "v2"}); err != nil || v != "v2" {
		t.Errorf("Negotiate = %q, %v; want v2", v, err)
	}
	if _, err := Negotiate([]string{"v2"}, []string{"v1"}); err == nil {
		t.Error("no common version accepted")
	}
}
