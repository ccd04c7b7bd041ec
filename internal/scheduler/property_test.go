package scheduler

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/constraint"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// randomCluster builds n members with a zone, a rack (sometimes missing), a
// storage label and a mix of statuses.
func randomCluster(r *rand.Rand, n int) []model.Member {
	statuses := []string{model.StatusOnline, model.StatusOnline, model.StatusOnline, model.StatusOffline, model.StatusEvacuated}
	ms := make([]model.Member, n)
	for i := range ms {
		m := member(fmt.Sprintf("m%03d", i), "zone", fmt.Sprintf("z%d", r.IntN(3)))
		if r.IntN(5) > 0 {
			m.Labels["rack"] = fmt.Sprintf("r%d", r.IntN(4))
		}
		if r.IntN(2) == 0 {
			m.Labels["storage"] = "ssd"
		}
		m.Status = statuses[r.IntN(len(statuses))]
		if r.IntN(3) == 0 {
			m.Groups = []string{"gpu"}
		}
		ms[i] = m
	}
	return ms
}

var constraintPool = [][]string{
	nil,
	{"node.labels.storage==ssd"},
	{"node.labels.storage!=ssd"},
	{"node.group==gpu", "node.labels.zone!=z0"},
	{"node.platform.arch==amd64"},
}

var spreadPool = [][]string{
	nil,
	{"node.labels.zone"},
	{"node.labels.zone", "node.labels.rack"},
	{"node.labels.rack", "node.group"},
}

// TestPropertyPlacement checks, over random clusters: every placement
// satisfies the constraints and lands on an online member; with no limits
// the spread is even within one at every level of the tree; global places
// exactly one replica on every eligible member.
func TestPropertyPlacement(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for iter := range 300 {
		ms := randomCluster(r, 1+r.IntN(40))
		cons := constraintPool[r.IntN(len(constraintPool))]
		spread := spreadPool[r.IntN(len(spreadPool))]
		n := r.IntN(60)
		svc := replicated("web", n)
		svc.Deploy.Placement.Constraints = cons
		svc.Deploy.Placement.Spread = spread
		c := NewCluster(&model.ClusterState{Members: ms})
		s := mustService(t, c, svc)
		placed, err := s.Place(n)
		parsed, _ := constraint.Parse(cons)
		eligible := 0
		byName := map[string]model.Member{}
		for _, m := range ms {
			byName[m.Name] = m
			if m.Online() && constraint.MatchAll(parsed, m) {
				eligible++
			}
		}
		if eligible == 0 {
			if n > 0 && err == nil {
				t.Fatalf("iter %d: placed with no eligible member", iter)
			}
			continue
		}
		if err != nil {
			t.Fatalf("iter %d: %v", iter, err)
		}
		if len(placed) != n {
			t.Fatalf("iter %d: placed %d of %d", iter, len(placed), n)
		}
		for _, p := range placed {
			m := byName[p]
			if !m.Online() || !constraint.MatchAll(parsed, m) {
				t.Fatalf("iter %d: %s placed on %s violating %v", iter, svc.Name, p, cons)
			}
		}
		checkEven(t, iter, ms, parsed, spread, placed)

		g := &model.Service{Name: "agent", Deploy: model.DeploySpec{Mode: model.ModeGlobal}}
		g.Deploy.Placement.Constraints = cons
		gs := mustService(t, NewCluster(&model.ClusterState{Members: ms}), g)
		gp, gerr := gs.PlaceGlobal()
		if gerr != nil || len(gp) != eligible {
			t.Fatalf("iter %d: global placed %d on %d eligible (%v)", iter, len(gp), eligible, gerr)
		}
		seen := map[string]bool{}
		for _, p := range gp {
			if seen[p] || !constraint.MatchAll(parsed, byName[p]) || !byName[p].Online() {
				t.Fatalf("iter %d: global placement %s duplicated or ineligible", iter, p)
			}
			seen[p] = true
		}
	}
}

// checkEven verifies that at every level of the spread tree, siblings hold
// numbers of replicas within one of each other, down to the members.
func checkEven(t *testing.T, iter int, ms []model.Member, cons []constraint.Constraint, spread []string, placed []string) {
	t.Helper()
	keys, err := spreadKeys(spread)
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, p := range placed {
		per[p]++
	}
	// path returns the member's branch values for the first depth levels.
	path := func(m model.Member, depth int) string {
		var b strings.Builder
		for _, k := range keys[:depth] {
			v, ok := k.Value(m)
			if !ok {
				v = "<missing>"
			}
			b.WriteString(v + "/")
		}
		return b.String()
	}
	for depth := 0; depth <= len(keys); depth++ {
		// For each parent path, collect children's totals.
		children := map[string]map[string]int{}
		for _, m := range ms {
			if !m.Online() || !constraint.MatchAll(cons, m) {
				continue
			}
			parent := path(m, depth)
			child := m.Name
			if depth < len(keys) {
				child = path(m, depth+1)
			}
			if children[parent] == nil {
				children[parent] = map[string]int{}
			}
			children[parent][child] += per[m.Name]
		}
		for parent, kids := range children {
			lo, hi := -1, -1
			for _, n := range kids {
				if lo < 0 || n < lo {
					lo = n
				}
				hi = max(hi, n)
			}
			if hi-lo > 1 {
				t.Fatalf("iter %d: level %d under %q uneven: %v", iter, depth, parent, kids)
			}
		}
	}
}
