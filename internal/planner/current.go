package planner

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// current is one existing instance of the stack, as its config records it.
type current struct {
	service            string
	name, member, hash string
	slot               int
	status             string // Incus status; "" in snapshots that omit it
	gatePending        bool   // a replacement that never passed its gate
}

// stopped reports an instance that exists but does not run: a run killed
// between create and start leaves one, and so does a crashed service.
func (c current) stopped() bool { return c.status != "" && c.status != "Running" }

// currentByService collects the stack's instances from the state by their
// ownership record (never by name) in the stack's own project only: a copy
// of a replica in another project (a backup, `incus copy --target-project`)
// carries the same keys but is not the stack's, and must neither claim a
// slot nor make the real replica a duplicate. Grouped by service, sorted by slot,
// then name, so every later walk is deterministic. Instances that claim the
// stack but carry a damaged record are left alone with a warning.
func currentByService(stack string, state *model.ClusterState) (map[string][]current, []string) {
	out := map[string][]current{}
	var warnings []string
	if state == nil {
		return out, nil
	}
	// One backing array for all services; each service's list is a window
	// of it once sorted, which saves regrowing per-service slices.
	all := make([]current, 0, len(state.Instances))
	for _, inst := range state.Instances {
		if inst.Project != stack {
			continue
		}
		st, svc, slot, ok := inst.Owned()
		if !ok {
			if inst.Config[model.KeyStack] == stack {
				warnings = append(warnings, fmt.Sprintf("instance %s on %s claims stack %s but its service/slot record is damaged; left alone", inst.Name, inst.Member, stack))
			}
			continue
		}
		if st != stack {
			continue
		}
		all = append(all, current{service: svc, name: inst.Name, member: inst.Member, hash: inst.Config[model.KeyHash], slot: slot, status: inst.Status,
			gatePending: inst.GatePending()})
	}
	slices.SortFunc(all, func(a, b current) int {
		return cmp.Or(cmp.Compare(a.service, b.service), cmp.Compare(a.slot, b.slot),
			cmp.Compare(a.name, b.name), cmp.Compare(a.member, b.member))
	})
	for start := 0; start < len(all); {
		end := start + 1
		for end < len(all) && all[end].service == all[start].service {
			end++
		}
		out[all[start].service] = all[start:end:end]
		start = end
	}
	slices.Sort(warnings)
	return out, warnings
}

// dedupe keeps one instance per slot and returns the others. The winner is
// the best by rank (servicePlan.rank: eligible member first, then one that
// passed its update gate and runs, then the right hash); ties go to the lower name
// (the input is sorted by slot, then name).
func dedupe(list []current, rank func(current) int) (winners, losers []current) {
	winners = make([]current, 0, len(list))
	for start := 0; start < len(list); {
		end := start + 1
		for end < len(list) && list[end].slot == list[start].slot {
			end++
		}
		best := start
		for i := start + 1; i < end; i++ {
			if rank(list[i]) < rank(list[best]) {
				best = i
			}
		}
		winners = append(winners, list[best])
		for i := start; i < end; i++ {
			if i != best {
				losers = append(losers, list[i])
			}
		}
		start = end
	}
	return winners, losers
}
