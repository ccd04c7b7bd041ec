package cluster

// PlanServerConfig returns the server config keys to set so that every key
// in want has its value, with the changes as "config.<key>". Keys not in
// want are never touched.
func PlanServerConfig(cur, want map[string]string) (map[string]string, []Change) {
	set := map[string]string{}
	var changes []Change
	for _, k := range sortedKeys(want) {
		old, had := cur[k]
		if had && old == want[k] || !had && want[k] == "" {
			continue
		}
		set[k] = want[k]
		changes = append(changes, Change{Key: "config." + k, Old: optional(old, had), New: want[k]})
	}
	return set, changes
}
