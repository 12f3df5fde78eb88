package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// docExample is one request of docs/ecr-api.md and the answer it shows.
type docExample struct {
	line    int // of the request block, for messages
	method  string
	path    string
	noToken bool
	body    string
	status  int
	answer  any      // the documented JSON
	lines   []string // or the documented lines of a CSV answer
}

// readDocExamples takes each ```http block of the document with the
// ```json block after it.
func readDocExamples(t *testing.T, path string) []docExample {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	block := func(i int) ([]string, int) { // lines after a fence at i, and the closing fence
		for j := i + 1; j < len(lines); j++ {
			if strings.HasPrefix(lines[j], "```") {
				return lines[i+1 : j], j
			}
		}
		t.Fatalf("%s:%d: unclosed code block", path, i+1)
		return nil, 0
	}
	var out []docExample
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```http" {
			continue
		}
		req, end := block(i)
		ex := docExample{line: i + 1}
		if _, err := fmt.Sscanf(req[0], "%s %s", &ex.method, &ex.path); err != nil {
			t.Fatalf("%s:%d: request line %q", path, i+2, req[0])
		}
		body := req[1:]
		for len(body) > 0 && strings.Contains(body[0], ": ") && !strings.HasPrefix(body[0], "{") {
			if body[0] == "Authorization: none" {
				ex.noToken = true
			}
			body = body[1:]
		}
		ex.body = strings.Join(body, "\n")
		j := end + 1
		for j < len(lines) && lines[j] != "```json" && lines[j] != "```csv" {
			if lines[j] == "```http" {
				t.Fatalf("%s:%d: request without a documented answer", path, i+1)
			}
			j++
		}
		isCSV := j < len(lines) && lines[j] == "```csv"
		ans, close := block(j)
		status, ok := strings.CutPrefix(ans[0], "HTTP ")
		if !ok {
			t.Fatalf("%s:%d: answer block must start with HTTP <status>", path, j+2)
		}
		if ex.status, err = strconv.Atoi(status); err != nil {
			t.Fatalf("%s:%d: status %q", path, j+2, status)
		}
		if isCSV {
			ex.lines = ans[1:]
		} else if err := json.Unmarshal([]byte(strings.Join(ans[1:], "\n")), &ex.answer); err != nil {
			t.Fatalf("%s:%d: documented answer is not JSON: %v", path, j+3, err)
		}
		out = append(out, ex)
		i = close
	}
	return out
}

// matches reports where got differs from the documented want: every
// documented field must be there with the documented value ("…" stands
// for any value); a documented array lists the first elements.
func matches(want, got any, at string) []string {
	if s, ok := want.(string); ok && s == "…" {
		if got == nil {
			return []string{at + ": missing"}
		}
		return nil
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %v, want an object", at, got)}
		}
		var diffs []string
		for k, v := range w {
			gv, has := g[k]
			if !has {
				// A zero the server leaves out (omitempty) equals a documented zero.
				if v == float64(0) || v == "" || v == false {
					continue
				}
				diffs = append(diffs, at+"."+k+": missing")
				continue
			}
			diffs = append(diffs, matches(v, gv, at+"."+k)...)
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) < len(w) {
			return []string{fmt.Sprintf("%s: %v, want at least %d elements", at, got, len(w))}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, matches(w[i], g[i], fmt.Sprintf("%s[%d]", at, i))...)
		}
		return diffs
	}
	if fmt.Sprint(want) != fmt.Sprint(got) {
		return []string{fmt.Sprintf("%s: %v, documented %v", at, got, want)}
	}
	return nil
}

// TestECRAPIDocument runs every example of docs/ecr-api.md, in order,
// against a real `posrt run --headless` on the default profile, and holds
// each answer to the one documented.
func TestECRAPIDocument(t *testing.T) {
	bin := posrtBinary(t)
	examples := readDocExamples(t, "../../docs/ecr-api.md")
	if len(examples) < 20 {
		t.Fatalf("only %d examples in docs/ecr-api.md", len(examples))
	}
	p := startPosrt(t, bin, t.TempDir())
	for _, ex := range examples {
		var body io.Reader
		if ex.body != "" {
			body = bytes.NewBufferString(ex.body)
		}
		req, err := http.NewRequest(ex.method, p.Base+ex.path, body)
		if err != nil {
			t.Fatal(err)
		}
		if !ex.noToken {
			req.Header.Set("Authorization", "Bearer "+p.Token)
		}
		if ex.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("docs/ecr-api.md:%d: %s %s: %v", ex.line, ex.method, ex.path, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if ex.lines != nil {
			if resp.StatusCode != ex.status {
				t.Errorf("docs/ecr-api.md:%d: %s %s: HTTP %d, documented %d: %s", ex.line, ex.method, ex.path, resp.StatusCode, ex.status, raw)
			}
			for _, d := range csvMatches(ex.lines, string(raw)) {
				t.Errorf("docs/ecr-api.md:%d: %s %s: %s\n  answer: %s", ex.line, ex.method, ex.path, d, raw)
			}
			continue
		}
		var got any
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("docs/ecr-api.md:%d: answer is not JSON: %s", ex.line, raw)
		}
		if resp.StatusCode != ex.status {
			t.Errorf("docs/ecr-api.md:%d: %s %s: HTTP %d, documented %d: %s", ex.line, ex.method, ex.path, resp.StatusCode, ex.status, raw)
			continue
		}
		for _, d := range matches(ex.answer, got, "answer") {
			t.Errorf("docs/ecr-api.md:%d: %s %s: %s\n  answer: %s", ex.line, ex.method, ex.path, d, raw)
		}
	}
}

// csvMatches reports the documented lines that no line of the answer
// matches, in order: "…" in a documented line stands for any text.
func csvMatches(want []string, got string) []string {
	lines := strings.Split(strings.TrimPrefix(got, "\ufeff"), "\n")
	var diffs []string
	at := 0
	for _, w := range want {
		re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(w), "…", ".*") + "\r?$")
		found := false
		for at < len(lines) && !found {
			found = re.MatchString(lines[at])
			at++
		}
		if !found {
			diffs = append(diffs, fmt.Sprintf("no line %q (in order)", w))
			at = 0
		}
	}
	return diffs
}
