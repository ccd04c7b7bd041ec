package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// sharedDrivers are the Incus storage drivers whose volumes every member
// can reach, so an instance can be moved off a lost member with its data.
var sharedDrivers = []string{"ceph", "cephfs", "lvmcluster", "linstor"}

// storageWarning returns one warning for the whole stack when some service
// runs several instances (replicas > 1, or global) while the root disk pool
// is local to each member: the replicas still spread, but none can fail
// over with its data. It stays silent when the root pool or its driver is
// unknown (an old snapshot): the check reads the pool the instances really
// use and never guesses one.
//
// after counts the instances each service runs once the plan is done: a
// service that runs fewer than two (a global one whose constraints match
// no member) is not named.
func storageWarning(desired *model.Stack, state *model.ClusterState, after map[string]int) string {
	if state == nil || state.RootPool == "" {
		return ""
	}
	i := slices.IndexFunc(state.StoragePools, func(p model.StoragePool) bool { return p.Name == state.RootPool })
	if i < 0 {
		return ""
	}
	driver := state.StoragePools[i].Driver
	if driver == "" || slices.Contains(sharedDrivers, strings.ToLower(driver)) {
		return ""
	}
	var several []string
	for _, svc := range desired.Services {
		if (svc.Deploy.Mode == model.ModeGlobal || svc.Deploy.Replicas > 1) && (after == nil || after[svc.Name] > 1) {
			several = append(several, svc.Name)
		}
	}
	if len(several) == 0 {
		return ""
	}
	slices.Sort(several)
	return fmt.Sprintf("stack %s: root disk pool %q uses the %s driver, which is local to each member, while %s %s more than one instance: instances cannot fail over with their data, and the replicas of a lost member are re-created from the image on other members (use a shared pool: %s)",
		desired.Name, state.RootPool, driver, strings.Join(several, ", "), verb(len(several)), strings.Join(sharedDrivers, ", "))
}

// verb agrees "run" with the number of services named before it.
func verb(n int) string {
	if n == 1 {
		return "runs"
	}
	return "run"
}

// runningAfter counts, per service, the instances the plan leaves running
// (created, kept, replaced or updated).
func runningAfter(plan model.Plan) map[string]int {
	out := map[string]int{}
	for _, s := range plan.Steps {
		if s.Op != model.OpDelete {
			out[s.Service]++
		}
	}
	return out
}
