package base

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ConfigKey is one key of a plugin's configuration, as EachConfigKey passes
// it to the plugin's parser.
type ConfigKey struct {
	Name  string // the key
	Value string // its value, trimmed of surrounding space
	raw   string // its value as configured, quoted in errors
}

// Bad returns the error for a value that is not what the key wants, such as
//
//	config key paper: "x" is not a number of receipts
func (k ConfigKey) Bad(want string) error {
	return fmt.Errorf("config key %s: %q is not %s", k.Name, k.raw, want)
}

// Bool returns the value true or false, and for any other value the error
// Bad gives for "true or false".
func (k ConfigKey) Bool() (bool, error) {
	switch k.Value {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, k.Bad("true or false")
}

// EachConfigKey calls fn with each key of config in sorted order, and
// returns the first error fn returns. A key that is not among known stops
// it, when its turn comes, with an error naming the key and the plugin
// (name), such as
//
//	config key colour: unknown to fake-printer
//
// A plugin's Configure runs it over every key before it changes anything,
// so that a rejected configuration leaves the plugin as it was.
func EachConfigKey(config map[string]string, name string, known []string, fn func(ConfigKey) error) error {
	for _, k := range slices.Sorted(maps.Keys(config)) {
		if !slices.Contains(known, k) {
			return fmt.Errorf("config key %s: unknown to %s", k, name)
		}
		if err := fn(ConfigKey{Name: k, Value: strings.TrimSpace(config[k]), raw: config[k]}); err != nil {
			return err
		}
	}
	return nil
}
