package pluginhost

import (
	"fmt"
	"os"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
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
