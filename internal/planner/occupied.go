package planner

import (
	"fmt"
	"slices"

	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/scheduler"
)

// Incus cannot read an instance's config while its member is offline: it
// lists the instance with its name, project and member only. Such an
// instance in the stack's project may well be a replica, but its record
// (service, slot) is unknown, so the planner cannot count it; its slot is
// re-created elsewhere, and the name it holds must not be reused, or the
// create fails. Once the member is back, the record reappears and the next
// run removes the duplicate. The same holds for any other instance in the
// project that is not one of the stack's.

// occupied returns the names in the stack's project held by instances the
// stack does not (visibly) own, with a warning for each one on an offline
// member.
func occupied(stack string, state *model.ClusterState, cl *scheduler.Cluster) (map[string]bool, []string) {
	if state == nil {
		return nil, nil
	}
	var names map[string]bool
	var warnings []string
	for _, inst := range state.Instances {
		if inst.Project != stack {
			continue
		}
		if owner, _, _, ok := inst.Owned(); ok && owner == stack {
			continue
		}
		if names == nil {
			names = map[string]bool{}
		}
		names[inst.Name] = true
		if cl.Offline(inst.Member) {
			warnings = append(warnings, fmt.Sprintf("instance %s is on offline member %s, which cannot report what it runs; its replica is re-created elsewhere if the stack needs one, and the next run after %s is back removes the duplicate",
				inst.Name, inst.Member, inst.Member))
		}
	}
	slices.Sort(warnings)
	return names, warnings
}

// freeName returns name, or the first of name-b, name-c, … that no
// occupant holds. A letter suffix never collides with another service's
// <service>-<slot> name.
func freeName(name string, taken map[string]bool) string {
	if !taken[name] {
		return name
	}
	for k := 1; ; k++ {
		if n := name + "-" + letters(k); !taken[n] {
			return n
		}
	}
}

// letters spells k ≥ 1 as b, c, …, z, bb, bc, … (never "a", so "-b" is
// the first alternate, as for start-first updates).
func letters(k int) string {
	const digits = "bcdefghijklmnopqrstuvwxyz"
	var out []byte
	for k--; ; k = k/len(digits) - 1 {
		out = append([]byte{digits[k%len(digits)]}, out...)
		if k < len(digits) {
			return string(out)
		}
	}
}
