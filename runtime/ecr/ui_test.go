package ecr

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/posrt/posrt/runtime/flow"
)

// A flow's questions are answered from the request's "ui" object by
// name; an unanswered one names what to send; a wrong answer is refused.
func TestRequestUIAnswersFromTheRequest(t *testing.T) {
	ctx := context.Background()
	ui, err := newRequestUI(json.RawMessage(`{"ok": true, "pick": 2, "pick_text": "WeChat", "amount_again": 1234, "bad_pick": 7}`))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := ui.Confirm(ctx, flow.Prompt{Name: "ok", Text: "Go on?"}); err != nil || !b {
		t.Errorf("confirm = %v, %v", b, err)
	}
	opts := []string{"Card", "WeChat", "Cash"}
	if i, err := ui.Choose(ctx, flow.Prompt{Name: "pick", Options: opts}); err != nil || i != 1 {
		t.Errorf("choose by number = %d, %v, want index 1", i, err)
	}
	if i, err := ui.Choose(ctx, flow.Prompt{Name: "pick_text", Options: opts}); err != nil || i != 1 {
		t.Errorf("choose by text = %d, %v", i, err)
	}
	if _, err := ui.Choose(ctx, flow.Prompt{Name: "bad_pick", Options: opts}); flow.AsError(err).Code != "invalid_request" {
		t.Errorf("choice 7 of 3: %v", err)
	}
	if a, err := ui.EnterAmount(ctx, flow.Prompt{Name: "amount_again"}); err != nil || a != 1234 {
		t.Errorf("amount = %d, %v", a, err)
	}
	_, err = ui.Confirm(ctx, flow.Prompt{Name: "confirm_refund", Text: "Refund 12.34?"})
	if fe := flow.AsError(err); fe.Code != CodeUIAnswerRequired || !strings.Contains(fe.Message, `"confirm_refund"`) {
		t.Errorf("unanswered question: %v", err)
	}
	ui.Show(ctx, flow.Message{Title: "Card declined", Level: "error"})
	if m := ui.Shown(); len(m) != 1 || m[0].Title != "Card declined" {
		t.Errorf("messages %v", m)
	}
	if _, err := newRequestUI(json.RawMessage(`[1, 2]`)); err == nil {
		t.Error("a ui that is not an object accepted")
	}
}

// An answer that is not a boolean, a whole number or a string is refused
// with the request, before any operation.
func TestRequestUIRefusesUnusableAnswers(t *testing.T) {
	for _, raw := range []string{`{"amount_again": 12.34}`, `{"pick": [1]}`, `{"pick": {"n": 1}}`, `null`, `"yes"`} {
		if _, err := newRequestUI(json.RawMessage(raw)); err == nil {
			t.Errorf("ui %s accepted", raw)
		}
	}
	ui, err := newRequestUI(json.RawMessage(`{"again": 0, "go": "yes"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ui.EnterAmount(context.Background(), flow.Prompt{Name: "again"}); flow.AsError(err).Code != "invalid_amount" {
		t.Errorf("an amount of 0 fen: %v", err)
	}
	if _, err := ui.Confirm(context.Background(), flow.Prompt{Name: "go"}); flow.AsError(err).Code != "invalid_request" || !strings.Contains(err.Error(), `ui.go = "yes"`) {
		t.Errorf(`confirm answered "yes": %v`, err)
	}
}
