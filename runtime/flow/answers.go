package flow

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/posrt/posrt/runtime/money"
)

// CodeUIAnswerRequired is the code of a question an Answers UI has no
// answer to.
const CodeUIAnswerRequired = "ui_answer_required"

// Answers is the UI of a front end whose answers come with its request
// (the ECR API's "ui" object, a scenario's ui table): each question is
// answered by its name, Confirm from a bool, Choose from an option's
// number from 1 (an int64) or its text, EnterAmount from an amount in fen
// (an int64). A question it has no answer to fails with
// ui_answer_required and the message missing gives, so that the front end
// can say how to answer it; an answer of the wrong kind fails with
// invalid_request, an amount out of range with invalid_amount. What the flow shows is kept
// (Shown); progress is not.
type Answers struct {
	answers map[string]any
	missing func(p Prompt, example string) string
	mu      sync.Mutex
	shown   []Message
}

var _ UI = (*Answers)(nil)

// NewAnswers returns the UI answering from answers (bool, int64 or string
// values); missing words the failure of a question it has no answer to,
// given an example answer.
func NewAnswers(answers map[string]any, missing func(p Prompt, example string) string) *Answers {
	return &Answers{answers: answers, missing: missing}
}

func (u *Answers) answer(p Prompt, example string) (any, error) {
	a, ok := u.answers[p.Name]
	if !ok {
		return nil, &Error{Code: CodeUIAnswerRequired, Message: u.missing(p, example)}
	}
	return a, nil
}

func wrongAnswer(code string, p Prompt, a any, want string) error {
	if s, ok := a.(string); ok {
		a = fmt.Sprintf("%q", s)
	}
	return &Error{Code: code, Message: fmt.Sprintf("ui.%s = %v: the flow's question wants %s", p.Name, a, want)}
}

// Show implements UI.
func (u *Answers) Show(_ context.Context, m Message) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.shown = append(u.shown, m)
	return nil
}

// Confirm implements UI.
func (u *Answers) Confirm(_ context.Context, p Prompt) (bool, error) {
	a, err := u.answer(p, "true")
	if err != nil {
		return false, err
	}
	b, ok := a.(bool)
	if !ok {
		return false, wrongAnswer("invalid_request", p, a, "true or false")
	}
	return b, nil
}

// Choose implements UI.
func (u *Answers) Choose(_ context.Context, p Prompt) (int, error) {
	a, err := u.answer(p, "1")
	if err != nil {
		return 0, err
	}
	switch a := a.(type) {
	case int64:
		if a >= 1 && a <= int64(len(p.Options)) {
			return int(a) - 1, nil
		}
	case string:
		for i, o := range p.Options {
			if o == a {
				return i, nil
			}
		}
	}
	return 0, wrongAnswer("invalid_request", p, a, fmt.Sprintf("a number from 1 to %d or one of %s", len(p.Options), strings.Join(p.Options, ", ")))
}

// EnterAmount implements UI.
func (u *Answers) EnterAmount(_ context.Context, p Prompt) (int64, error) {
	a, err := u.answer(p, "1234")
	if err != nil {
		return 0, err
	}
	want := fmt.Sprintf("an amount in fen, a whole number from 1 to %d (1234 for RMB 12.34)", money.MaxAmount)
	n, ok := a.(int64)
	switch {
	case !ok:
		return 0, wrongAnswer("invalid_request", p, a, want)
	case n < 1 || n > int64(money.MaxAmount):
		return 0, wrongAnswer("invalid_amount", p, a, want)
	}
	return n, nil
}

// Progress implements UI.
func (u *Answers) Progress(context.Context, Progress) error { return nil }

// Shown returns the messages the flow showed.
func (u *Answers) Shown() []Message {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]Message(nil), u.shown...)
}
