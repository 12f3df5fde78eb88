package ecr

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/money"
)

// CodeUIAnswerRequired is the code of an operation whose flow asked a
// question the request did not answer: the cash register sends the
// request again with {"ui": {NAME: answer}}.
const CodeUIAnswerRequired = "ui_answer_required"

// requestUI is a flow's posrt.ui over the ECR API: a question is answered
// from the request's "ui" object by the prompt's name (confirm: true or
// false; choose: the option's number from 1 or its text; enter_amount: an
// amount as "amount" is given); messages shown are returned with the
// answer. A question the request does not answer fails the flow's call
// with ui_answer_required, naming it.
type requestUI struct {
	answers map[string]json.RawMessage
	mu      sync.Mutex
	shown   []flow.Message
}

var _ flow.UI = (*requestUI)(nil)

func newRequestUI(raw json.RawMessage) (*requestUI, error) {
	u := &requestUI{answers: map[string]json.RawMessage{}}
	if len(raw) == 0 {
		return u, nil
	}
	if err := json.Unmarshal(raw, &u.answers); err != nil {
		return nil, fmt.Errorf(`ui must be an object of answers by question name, such as {"confirm_refund": true}`)
	}
	return u, nil
}

func (u *requestUI) answer(p flow.Prompt, want string) (json.RawMessage, error) {
	a, ok := u.answers[p.Name]
	if !ok {
		return nil, &flow.Error{Code: CodeUIAnswerRequired, Message: fmt.Sprintf("the flow asks %q: send the request again with {\"ui\": {%q: %s}}", p.Text, p.Name, want)}
	}
	return a, nil
}

func (u *requestUI) bad(p flow.Prompt, want string) error {
	return &flow.Error{Code: "invalid_request", Message: fmt.Sprintf("ui.%s must be %s", p.Name, want)}
}

func (u *requestUI) Show(_ context.Context, m flow.Message) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.shown = append(u.shown, m)
	return nil
}

func (u *requestUI) Confirm(_ context.Context, p flow.Prompt) (bool, error) {
	a, err := u.answer(p, "true or false")
	if err != nil {
		return false, err
	}
	var b bool
	if json.Unmarshal(a, &b) != nil {
		return false, u.bad(p, "true or false")
	}
	return b, nil
}

func (u *requestUI) Choose(_ context.Context, p flow.Prompt) (int, error) {
	want := fmt.Sprintf("a number from 1 to %d or one of %s", len(p.Options), strings.Join(p.Options, ", "))
	a, err := u.answer(p, want)
	if err != nil {
		return 0, err
	}
	var n int
	if json.Unmarshal(a, &n) == nil && n >= 1 && n <= len(p.Options) {
		return n - 1, nil
	}
	var s string
	if json.Unmarshal(a, &s) == nil {
		for i, o := range p.Options {
			if o == s {
				return i, nil
			}
		}
	}
	return 0, u.bad(p, want)
}

func (u *requestUI) EnterAmount(_ context.Context, p flow.Prompt) (int64, error) {
	a, err := u.answer(p, `an amount in fen, as "amount" is given (1234 for 12.34 yuan)`)
	if err != nil {
		return 0, err
	}
	f, err := money.ParseJSON(a)
	if err != nil {
		return 0, &flow.Error{Code: "invalid_amount", Message: "ui." + p.Name + ": " + err.Error()}
	}
	return int64(f), nil
}

func (u *requestUI) Progress(context.Context, flow.Progress) error { return nil }

// messages are the messages the flow showed.
func (u *requestUI) messages() []flow.Message {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.shown
}
