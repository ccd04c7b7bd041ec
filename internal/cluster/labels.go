package cluster

import (
	"sort"
	"strings"
)

// LabelPrefix turns a label into a member config key: labels are the
// member's user.<key> entries, as PROTOCOL.md defines them.
const LabelPrefix = "user."

// KeyManagedLabels records, on the member itself, which labels incus-fleet
// set, so a label dropped from the desired set is removed while labels
// someone else set (user.publish_address of the test bed, say) are never
// touched. Keys under user.fleet. are bookkeeping, not labels.
const KeyManagedLabels = "user.fleet.labels"

// BookkeepingPrefix marks member config keys that are not labels.
const BookkeepingPrefix = "user.fleet."

// IsLabelKey reports whether a member config key is a label.
func IsLabelKey(key string) bool {
	return strings.HasPrefix(key, LabelPrefix) && !strings.HasPrefix(key, BookkeepingPrefix)
}

// ManagedLabels parses the bookkeeping value: label keys, comma separated.
func ManagedLabels(config map[string]string) []string {
	var out []string
	for _, k := range strings.Split(config[KeyManagedLabels], ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// planLabels converges the labels incus-fleet manages to want and returns
// the new member config and the changes. Labels it does not manage stay;
// a label it did not set before but is asked for now is taken over.
func planLabels(config map[string]string, want map[string]string) (map[string]string, []Change) {
	out := make(map[string]string, len(config)+len(want))
	for k, v := range config {
		out[k] = v
	}
	var changes []Change
	for _, k := range sortedKeys(want) {
		key := LabelPrefix + k
		old, had := config[key]
		if had && old == want[k] {
			continue
		}
		out[key] = want[k]
		changes = append(changes, Change{Key: "labels." + k, Old: optional(old, had), New: want[k]})
	}
	managed := ManagedLabels(config)
	for _, k := range managed {
		if _, keep := want[k]; keep {
			continue
		}
		key := LabelPrefix + k
		if old, had := config[key]; had {
			delete(out, key)
			changes = append(changes, Change{Key: "labels." + k, Old: old, New: nil})
		}
	}
	record := strings.Join(sortedKeys(want), ",")
	if record == strings.Join(managed, ",") {
		return out, changes
	}
	if record == "" {
		delete(out, KeyManagedLabels)
	} else {
		out[KeyManagedLabels] = record
	}
	if len(changes) == 0 {
		// Only the record changed (labels someone else set are now ours,
		// or a label we managed was removed by hand): still a write, so
		// say so rather than report nothing.
		changes = append(changes, Change{Key: "managed_labels", Old: managed, New: sortedKeys(want)})
	}
	return out, changes
}

func optional(v string, ok bool) any {
	if !ok {
		return nil
	}
	return v
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
