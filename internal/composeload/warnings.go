package composeload

import (
	"maps"
	"slices"
)

// warnings collects non-fatal findings (ignored fields) while converting;
// Stack.Warnings must be sorted and free of duplicates so output is
// byte-stable and each finding is reported once.
type warnings struct {
	items []string
	// keys holds, per service, the warnings for keys without an Incus
	// equivalent (keys.go); toStack adds those of the services it keeps.
	keys map[string][]string
	// explain adds the unset variables to an error found after loading
	// (unset.go); nil until the project has loaded.
	explain func(*Error) *Error
}

func (w *warnings) add(msg string) { w.items = append(w.items, msg) }

func (w *warnings) list() []string {
	if len(w.items) == 0 {
		return nil
	}
	out := slices.Clone(w.items)
	slices.Sort(out)
	return slices.Compact(out)
}

// sortedKeys gives map keys in a stable order for deterministic output.
func sortedKeys[M ~map[string]V, V any](m M) []string {
	return slices.Sorted(maps.Keys(m))
}
