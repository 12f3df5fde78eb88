package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/money"
	"github.com/posrt/posrt/runtime/operator"
	"github.com/posrt/posrt/runtime/terminal"
)

// consoleUI is a flow's posrt.ui on the cashier's console: messages are
// printed, questions asked on the next line (an empty line or the input's
// end cancels).
type consoleUI struct{ c *consoleSession }

var _ flow.UI = consoleUI{}

func (u consoleUI) ask(text string) (string, error) {
	fmt.Fprint(u.c.out, text)
	if !u.c.lines.Scan() {
		return "", &flow.Error{Code: "cancelled", Message: "the cashier left the question unanswered"}
	}
	answer := strings.TrimSpace(u.c.lines.Text())
	if answer == "" {
		return "", &flow.Error{Code: "cancelled", Message: "cancelled by the cashier"}
	}
	return answer, nil
}

func (u consoleUI) Show(_ context.Context, m flow.Message) error {
	prefix := ""
	if m.Level == "warning" || m.Level == "error" {
		prefix = strings.ToUpper(m.Level) + ": "
	}
	if m.Title != "" {
		fmt.Fprintln(u.c.out, prefix+m.Title)
		prefix = "  "
	}
	for _, l := range m.Lines {
		fmt.Fprintln(u.c.out, prefix+l)
	}
	return nil
}

func (u consoleUI) Confirm(_ context.Context, p flow.Prompt) (bool, error) {
	for {
		a, err := u.ask(p.Text + " [y/n] ")
		if err != nil {
			return false, err
		}
		switch strings.ToLower(a) {
		case "y", "yes":
			return true, nil
		case "n", "no":
			return false, nil
		}
		fmt.Fprintln(u.c.out, "answer y or n")
	}
}

func (u consoleUI) Choose(_ context.Context, p flow.Prompt) (int, error) {
	fmt.Fprintln(u.c.out, p.Text)
	for i, o := range p.Options {
		fmt.Fprintf(u.c.out, "  %d  %s\n", i+1, o)
	}
	for {
		a, err := u.ask(fmt.Sprintf("choose 1-%d: ", len(p.Options)))
		if err != nil {
			return 0, err
		}
		if n, err := strconv.Atoi(a); err == nil && n >= 1 && n <= len(p.Options) {
			return n - 1, nil
		}
		fmt.Fprintf(u.c.out, "%q is not a number from 1 to %d\n", a, len(p.Options))
	}
}

func (u consoleUI) EnterAmount(_ context.Context, p flow.Prompt) (int64, error) {
	for {
		a, err := u.ask(p.Text + " (yuan, e.g. 12.34): ")
		if err != nil {
			return 0, err
		}
		f, err := money.Parse(a)
		if err == nil {
			return int64(f), nil
		}
		fmt.Fprintln(u.c.out, err)
	}
}

func (u consoleUI) Progress(_ context.Context, p flow.Progress) error {
	if p.Steps > 0 {
		fmt.Fprintf(u.c.out, "[%d/%d] %s\n", p.Step, p.Steps, p.Text)
	} else {
		fmt.Fprintln(u.c.out, p.Text)
	}
	return nil
}

// consoleCredentials asks the cashier for a password on the next line
// (number and password given on the login line are used as they are): it
// goes to posrt's check, never to the flow.
type consoleCredentials struct {
	c        *consoleSession
	number   operator.Number
	password string
}

var _ terminal.Credentials = consoleCredentials{}

func (k consoleCredentials) Operator(context.Context) (operator.Number, string, error) {
	if k.number != "" {
		return k.number, k.password, nil
	}
	no, err := consoleUI{k.c}.ask("operator number: ")
	if err != nil {
		return "", "", err
	}
	pw, err := consoleUI{k.c}.ask("password: ")
	fmt.Fprintln(k.c.out)
	return operator.Number(no), pw, err
}

func (k consoleCredentials) Supervisor(context.Context) (string, error) {
	pw, err := consoleUI{k.c}.ask("supervisor password: ")
	fmt.Fprintln(k.c.out)
	return pw, err
}
