package planner

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/constraint"
	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/scheduler"
)

var (
	consPool   = [][]string{nil, nil, {"node.labels.storage==ssd"}, {"node.labels.zone!=z0"}, {"node.group==gpu"}}
	spreadPool = [][]string{nil, {"node.labels.zone"}, {"node.labels.zone", "node.labels.rack"}}
)

// randomScenario builds a cluster, a stack and a messy current state: wrong
// hashes, duplicates, orphans, instances on vanished or offline members.
func randomScenario(r *rand.Rand) (*model.Stack, *model.ClusterState, Options) {
	statuses := []string{model.StatusOnline, model.StatusOnline, model.StatusOnline, model.StatusOnline, model.StatusOffline, model.StatusEvacuated}
	var members []model.Member
	for i := range 3 + r.IntN(30) {
		m := online(fmt.Sprintf("n%02d", i), "zone", fmt.Sprintf("z%d", r.IntN(3)), "rack", fmt.Sprintf("r%d", r.IntN(3)))
		if r.IntN(2) == 0 {
			m.Labels["storage"] = "ssd"
		}
		if r.IntN(3) == 0 {
			m.Groups = []string{"gpu"}
		}
		m.Status = statuses[r.IntN(len(statuses))]
		members = append(members, m)
	}
	st := stack()
	names := []string{"api", "db", "web", "agent", "cache"}
	for _, name := range names[:1+r.IntN(len(names))] {
		s := svc(name, r.IntN(12), fmt.Sprintf("%s-h%d", name, r.IntN(2)))
		if r.IntN(5) == 0 {
			s.Deploy.Mode = model.ModeGlobal
		}
		s.Deploy.Placement.Constraints = consPool[r.IntN(len(consPool))]
		s.Deploy.Placement.Spread = spreadPool[r.IntN(len(spreadPool))]
		s.Deploy.Placement.MaxReplicasPerNode = r.IntN(4)
		switch r.IntN(3) {
		case 1:
			s.Ports = []model.Port{{PublishedStart: 8000, Target: 80}}
		case 2:
			s.Ports = []model.Port{{PublishedStart: 9000, PublishedEnd: 9099, Target: 80}}
		}
		s.Deploy.UpdateConfig.Parallelism = r.IntN(3)
		st.Services = append(st.Services, s)
	}
	state := &model.ClusterState{Members: members}
	for i := range r.IntN(40) {
		service := names[r.IntN(len(names))]
		if r.IntN(8) == 0 {
			service = "gone"
		}
		member := fmt.Sprintf("n%02d", r.IntN(len(members)+2)) // sometimes a vanished member
		hash := fmt.Sprintf("%s-h%d", service, r.IntN(2))
		if r.IntN(3) == 0 {
			hash += "@fp" + fmt.Sprint(r.IntN(2))
		}
		state.Instances = append(state.Instances, inst(fmt.Sprintf("%s-%d-%d", service, i, r.IntN(9)), service, 1+r.IntN(14), member, hash))
	}
	// Instances whose config Incus cannot read (their member is offline)
	// hold names the plan must not reuse.
	for range r.IntN(3) {
		name := fmt.Sprintf("%s-%d", names[r.IntN(len(names))], 1+r.IntN(6))
		state.Instances = append(state.Instances, model.Instance{Name: name, Project: stackName, Member: fmt.Sprintf("n%02d", r.IntN(len(members)))})
	}
	var opts Options
	if r.IntN(2) == 0 {
		opts.ImageFingerprints = map[string]string{"web": "fp1", "api": "fp0"}
	}
	if r.IntN(5) == 0 {
		opts.Services = []string{st.Services[0].Name}
	}
	opts.ForceRecreate = r.IntN(6) == 0
	return st, state, opts
}

// TestPropertyPlan checks, over random scenarios: the plan is deterministic
// under input reordering; every owned instance is accounted for once;
// placed and kept replicas satisfy their constraints; replicated services
// get each slot exactly once, global ones one replica per eligible member;
// and re-planning the applied plan yields only keeps.
func TestPropertyPlan(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 4242))
	converged := 0
	for iter := range 500 {
		st, state, opts := randomScenario(r)
		plan, _, err := Plan(st, state, opts)
		var ns *scheduler.NoSuitableNodeError
		if errors.As(err, &ns) {
			continue
		}
		if err != nil {
			t.Fatalf("iter %d: %v", iter, err)
		}

		shuffled := &model.ClusterState{Members: slices.Clone(state.Members), Instances: slices.Clone(state.Instances)}
		r.Shuffle(len(shuffled.Members), func(i, j int) { shuffled.Members[i], shuffled.Members[j] = shuffled.Members[j], shuffled.Members[i] })
		r.Shuffle(len(shuffled.Instances), func(i, j int) {
			shuffled.Instances[i], shuffled.Instances[j] = shuffled.Instances[j], shuffled.Instances[i]
		})
		again, _, err := Plan(st, shuffled, opts)
		if err != nil || !reflect.DeepEqual(plan, again) {
			t.Fatalf("iter %d: plan depends on input order (%v)", iter, err)
		}

		checkAccounted(t, iter, st, state, plan)
		checkNames(t, iter, state, plan)
		checkDesired(t, iter, st, state, plan, opts)

		next := apply(t, state, st, plan, opts.ImageFingerprints)
		opts.ForceRecreate = false
		replan, _, err := Plan(st, next, opts)
		if err != nil {
			t.Fatalf("iter %d: replan: %v", iter, err)
		}
		if bad := onlyKeeps(replan); bad != "" {
			t.Fatalf("iter %d: converged stack replans with changes:\n%s\nfirst plan:\n%v", iter, bad, brief(plan.Steps))
		}
		converged++
	}
	t.Logf("%d of 500 scenarios placeable and converged", converged)
	if converged < 250 {
		t.Fatalf("only %d scenarios were placeable; the generator is too harsh", converged)
	}
}

// checkAccounted: every owned instance appears exactly once, as the
// instance of a keep/delete or the old instance of a replace; except that
// instances on an offline member are never deleted (Incus cannot), so they
// may appear nowhere.
func checkAccounted(t *testing.T, iter int, st *model.Stack, state *model.ClusterState, plan model.Plan) {
	t.Helper()
	offline := map[string]bool{}
	for _, m := range state.Members {
		offline[m.Name] = m.Status == model.StatusOffline
	}
	seen, deleted := map[string]int{}, map[string]bool{}
	for _, s := range plan.Steps {
		switch s.Op {
		case model.OpKeep, model.OpDelete:
			seen[s.Instance+"@"+s.Member]++
			deleted[s.Instance+"@"+s.Member] = s.Op == model.OpDelete
		case model.OpReplace:
			seen[s.OldInstance+"@"+s.OldMember]++
		}
	}
	for _, i := range state.Instances {
		if _, _, _, ok := i.Owned(); ok {
			key := i.Name + "@" + i.Member
			switch {
			case offline[i.Member] && deleted[key]:
				t.Fatalf("iter %d: instance %s is on an offline member but the plan deletes it", iter, key)
			case offline[i.Member] && seen[key] <= 1:
			case seen[key] != 1:
				t.Fatalf("iter %d: instance %s accounted %d times", iter, key, seen[key])
			}
		}
	}
}

// checkDesired: for selected services the result matches the spec.
func checkDesired(t *testing.T, iter int, st *model.Stack, state *model.ClusterState, plan model.Plan, opts Options) {
	t.Helper()
	byName := map[string]model.Member{}
	for _, m := range state.Members {
		byName[m.Name] = m
	}
	for _, sv := range st.Services {
		if len(opts.Services) > 0 && !slices.Contains(opts.Services, sv.Name) {
			continue
		}
		cons, _ := constraint.Parse(sv.Deploy.Placement.Constraints)
		slots := map[int]int{}
		onMember := map[string]int{}
		for _, s := range plan.Steps {
			if s.Service != sv.Name || s.Op == model.OpDelete {
				continue
			}
			m, ok := byName[s.Member]
			if !ok || !m.Online() || !constraint.MatchAll(cons, m) {
				t.Fatalf("iter %d: %s on %s violates online/%v", iter, s.Instance, s.Member, cons)
			}
			slots[s.Slot]++
			onMember[s.Member]++
		}
		if sv.Deploy.Mode == model.ModeGlobal {
			for _, m := range state.Members {
				want := 0
				if m.Online() && constraint.MatchAll(cons, m) {
					want = 1
				}
				if onMember[m.Name] != want {
					t.Fatalf("iter %d: global %s has %d on %s, want %d", iter, sv.Name, onMember[m.Name], m.Name, want)
				}
			}
			continue
		}
		for slot := 1; slot <= sv.Deploy.Replicas; slot++ {
			if slots[slot] != 1 {
				t.Fatalf("iter %d: %s slot %d appears %d times", iter, sv.Name, slot, slots[slot])
			}
		}
		if len(slots) != sv.Deploy.Replicas {
			t.Fatalf("iter %d: %s has slots %v for %d replicas", iter, sv.Name, slots, sv.Deploy.Replicas)
		}
		limit := sv.Deploy.Placement.MaxReplicasPerNode
		if len(sv.Ports) > 0 && !sv.Ports[0].IsRange() {
			limit = 1
		}
		for m, n := range onMember {
			if limit > 0 && n > limit {
				t.Fatalf("iter %d: %s has %d replicas on %s over cap %d", iter, sv.Name, n, m, limit)
			}
		}
	}
}

// checkNames: no new instance takes a name an unreadable instance holds.
func checkNames(t *testing.T, iter int, state *model.ClusterState, plan model.Plan) {
	t.Helper()
	held := map[string]bool{}
	for _, i := range state.Instances {
		if _, _, _, ok := i.Owned(); !ok && i.Project == stackName {
			held[i.Name] = true
		}
	}
	for _, s := range plan.Steps {
		if (s.Op == model.OpCreate || s.Op == model.OpReplace) && held[s.Instance] {
			t.Fatalf("iter %d: %s reuses the name of an unreadable instance", iter, brief([]model.Step{s}))
		}
	}
}
