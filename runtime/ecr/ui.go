package ecr

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/posrt/posrt/runtime/flow"
)

// CodeUIAnswerRequired is the code of an operation whose flow asked a
// question the request did not answer: the cash register sends the
// request again with {"ui": {NAME: answer}}.
const CodeUIAnswerRequired = flow.CodeUIAnswerRequired

// newRequestUI is a flow's posrt.ui over the ECR API: the request's "ui"
// object answers the flow's questions by name (see flow.Answers: true or
// false, an option's number from 1 or its text, an amount in fen); the
// messages shown come back with the answer. An answer that is not a
// boolean, a whole number or a string is refused with the request.
func newRequestUI(raw json.RawMessage) (*flow.Answers, error) {
	fields := map[string]json.RawMessage{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &fields); err != nil || bytes.TrimSpace(raw)[0] != '{' {
			return nil, fmt.Errorf(`ui must be an object of answers by question name, such as {"confirm_refund": true}`)
		}
	}
	answers := map[string]any{}
	for name, v := range fields {
		d := json.NewDecoder(bytes.NewReader(v))
		d.UseNumber()
		var a any
		if err := d.Decode(&a); err != nil {
			return nil, fmt.Errorf("ui.%s: %v", name, err)
		}
		switch x := a.(type) {
		case bool, string:
			answers[name] = x
		case json.Number:
			n, err := x.Int64()
			if err != nil {
				return nil, fmt.Errorf("ui.%s = %s: a number answer is a whole number (an option's number, an amount in fen)", name, x)
			}
			answers[name] = n
		default:
			return nil, fmt.Errorf("ui.%s: an answer is true or false, a whole number or a string", name)
		}
	}
	return flow.NewAnswers(answers, func(p flow.Prompt, example string) string {
		return fmt.Sprintf("the flow asks %q: send the request again with {\"ui\": {%q: %s}}", p.Text, p.Name, example)
	}), nil
}
