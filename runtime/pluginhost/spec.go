package pluginhost

import (
	"fmt"
	"os"
	"slices"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/posrt/posrt/plugins/base"
)

// Spec is one plugin as the configuration names it.
type Spec struct {
	Name string // unique within the configuration, e.g. "pinpad"
	Kind string // plugin.KindPinPad, ...
	Path string // the executable
	Args []string
	// SHA256 is the hex checksum the executable must have. It is required
	// unless Builtin is set: a built-in plugin is the running posrt
	// executable itself, re-executed as "posrt plugin serve NAME".
	SHA256  string
	Builtin bool
	// Process names the plugin process this plugin shares with the other
	// specs of the same Process; empty: a process of its own. The members
	// of a process run one executable (the same Path, Args, SHA256 and
	// Builtin) serving them all (base.ServeInstances), each configured
	// with its own Config; every call names its instance by the plugin's
	// Name (base.InstanceMetadata).
	Process string
	Config  map[string]string
	// CallTimeout bounds each unary call that has no earlier deadline; zero
	// takes the kind's default.
	CallTimeout time.Duration
}

// Kind tells the host how to talk to one kind of plugin.
type Kind struct {
	Plugin      goplugin.Plugin // the kind's go-plugin glue, host side
	APIVersions []string        // newest first
	CallTimeout time.Duration   // default per-call deadline
}

func (s Spec) validate(kinds map[string]Kind) error {
	switch {
	case s.Name == "":
		return fmt.Errorf("plugin with path %q has no name", s.Path)
	case s.Path == "":
		return fmt.Errorf("plugin %q has no path", s.Name)
	case !s.Builtin && s.SHA256 == "":
		return fmt.Errorf("plugin %q (%s) has no sha256: posrt runs only plugins whose checksum the configuration pins", s.Name, s.Path)
	}
	if _, ok := kinds[s.Kind]; !ok {
		return fmt.Errorf("plugin %q has unknown kind %q", s.Name, s.Kind)
	}
	return nil
}

// checkPath refuses, before any plugin starts, a plugin executable that
// is missing or cannot be run.
func (s Spec) checkPath() error {
	st, err := os.Stat(s.Path)
	switch {
	case err != nil:
		return fmt.Errorf("plugin %q: %s does not exist or cannot be read: %w", s.Name, s.Path, err)
	case st.IsDir():
		return fmt.Errorf("plugin %q: %s is a directory, not an executable", s.Name, s.Path)
	case st.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("plugin %q: %s is not executable (chmod +x it)", s.Name, s.Path)
	}
	return nil
}

// specGroup is the specs one process serves.
type specGroup struct {
	name  string
	specs []Spec
}

// group gathers the specs by Process, in the order the specs come, and
// refuses a group whose members do not run the same executable the same
// way, or that holds more than one plugin with broker hooks.
func group(specs []Spec, kinds map[string]Kind) ([]specGroup, error) {
	var groups []specGroup
	at := map[string]int{}
	for _, s := range specs {
		if b, ok := kinds[s.Kind].Plugin.(base.ClientBuilder); !ok || b == nil {
			return nil, fmt.Errorf("plugin %q: the host's glue of kind %q is not a base.Glue", s.Name, s.Kind)
		}
		if s.Process == "" {
			groups = append(groups, specGroup{name: s.Name, specs: []Spec{s}})
			continue
		}
		i, ok := at[s.Process]
		if !ok {
			at[s.Process] = len(groups)
			groups = append(groups, specGroup{name: s.Process, specs: []Spec{s}})
			continue
		}
		first := groups[i].specs[0]
		var differ string
		switch {
		case s.Builtin != first.Builtin:
			differ = "one is built in and the other is not (a process is either posrt itself or one vendor executable)"
		case s.Path != first.Path:
			differ = fmt.Sprintf("their paths differ (%s, %s)", first.Path, s.Path)
		case !slices.Equal(s.Args, first.Args):
			differ = fmt.Sprintf("their args differ (%q, %q)", first.Args, s.Args)
		case s.SHA256 != first.SHA256:
			differ = fmt.Sprintf("their sha256 differ (%s, %s)", first.SHA256, s.SHA256)
		}
		if differ != "" {
			return nil, fmt.Errorf("plugins %q and %q share process %q but %s", first.Name, s.Name, s.Process, differ)
		}
		groups[i].specs = append(groups[i].specs, s)
	}
	for _, g := range groups {
		var brokered []string
		for _, s := range g.specs {
			if kinds[s.Kind].Plugin.(base.ClientBuilder).UsesBroker() {
				brokered = append(brokered, fmt.Sprintf("%q", s.Name))
			}
		}
		if len(brokered) > 1 {
			return nil, fmt.Errorf("plugins %v share process %q but each uses go-plugin's broker, which a process offers to one plugin only: give all but one a process of its own", brokered, g.name)
		}
	}
	return groups, nil
}
