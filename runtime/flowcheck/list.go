package flowcheck

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/posrt/posrt/runtime/flow"
)

// Kind is what a flow file holds.
type Kind int

const (
	// KindFlow is a cashier flow: its file returns function(ctx).
	KindFlow Kind = iota
	// KindLibrary is a flow file of shared functions (receipts.lua), which
	// flows require by its name; its file returns a table.
	KindLibrary
)

func (k Kind) String() string {
	if k == KindLibrary {
		return "library"
	}
	return "flow"
}

// KindOf says what the flow file named name (without .lua) is to the
// engine. The engine keeps its list of libraries to itself, so KindOf
// asks it: a library is a file the engine compiles but does not offer as
// a flow.
func KindOf(name string) Kind {
	e, err := flow.NewFromSources(flow.Options{}, map[string]string{name: ""})
	if err == nil && len(e.Flows()) == 0 {
		return KindLibrary
	}
	return KindFlow
}

// Origin says where the file that runs comes from.
type Origin int

const (
	// OriginDefault is the embedded default.
	OriginDefault Origin = iota
	// OriginOverridden is a merchant's file in place of a default.
	OriginOverridden
	// OriginAdded is a merchant's file with a name no default has.
	OriginAdded
)

func (o Origin) String() string {
	switch o {
	case OriginOverridden:
		return "overridden"
	case OriginAdded:
		return "added"
	}
	return "default"
}

// Embedded is the From of an entry whose file is the embedded default.
const Embedded = "embedded"

// Entry is one flow or library as the engine would load it.
type Entry struct {
	Name   string
	Kind   Kind
	Origin Origin
	// From is the merchant's file (its path), or Embedded.
	From string
}

// List lists the flows and libraries of defaults with the merchant's
// directory dir laid over them (none when dir is empty) as posrt run lays
// flows.dir over the embedded flows, sorted by name.
func List(defaults fs.FS, dir string) ([]Entry, error) {
	base, err := flow.ReadLayers(defaults)
	if err != nil {
		return nil, fmt.Errorf("reading the default flows: %w", err)
	}
	var own map[string]string
	if dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("flows directory %q is not a directory", dir)
		}
		if own, err = flow.ReadLayers(os.DirFS(dir)); err != nil {
			return nil, fmt.Errorf("reading the flows directory: %w", err)
		}
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
	}
	var out []Entry
	for name := range base {
		e := Entry{Name: name, Kind: KindOf(name), Origin: OriginDefault, From: Embedded}
		if _, ok := own[name]; ok {
			e.Origin, e.From = OriginOverridden, filepath.Join(dir, name+".lua")
		}
		out = append(out, e)
	}
	for name := range own {
		if _, ok := base[name]; !ok {
			out = append(out, Entry{Name: name, Kind: KindOf(name), Origin: OriginAdded, From: filepath.Join(dir, name+".lua")})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Libraries returns the names of the libraries among entries: the ones a
// flow may require besides the posrt.* modules.
func Libraries(entries []Entry) []string {
	var out []string
	for _, e := range entries {
		if e.Kind == KindLibrary {
			out = append(out, e.Name)
		}
	}
	return out
}
