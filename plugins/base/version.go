package base

import (
	"fmt"
	"slices"
)

// CheckAPIVersion returns nil when info lists apiVersion, and otherwise an
// error naming the version, the kind and the plugin, such as
//
//	unsupported printer API version "v9": fake-printer speaks [v1]
//
// A plugin's Configure calls it first, with the Info it reports, so that it
// refuses any version it did not announce.
func CheckAPIVersion(info Info, apiVersion string) error {
	if slices.Contains(info.APIVersions, apiVersion) {
		return nil
	}
	return fmt.Errorf("unsupported %s API version %q: %s speaks %v", info.Kind, apiVersion, info.Name, info.APIVersions)
}
