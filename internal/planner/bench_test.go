package planner

import (
	"fmt"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// benchScenario builds n members (5 zones, 20 racks, half with SSDs, a
// tenth with GPUs, 1% offline) and a stack of ten services sharing the
// given replica total, with mixed constraints, spread, caps and ports.
func benchScenario(n, replicas int) (*model.Stack, *model.ClusterState) {
	members := make([]model.Member, n)
	for i := range members {
		m := online(fmt.Sprintf("node%04d", i), "zone", fmt.Sprintf("z%d", i%5), "rack", fmt.Sprintf("r%02d", i%20))
		if i%2 == 0 {
			m.Labels["storage"] = "ssd"
		}
		if i%10 == 3 {
			m.Groups = []string{"gpu"}
		}
		if i%100 == 99 {
			m.Status = model.StatusOffline
		}
		members[i] = m
	}
	type spec struct {
		name   string
		share  int // per mille of the replicas
		cons   []string
		spread []string
		max    int
		ports  []model.Port
	}
	specs := []spec{
		{name: "web", share: 300, spread: []string{"node.labels.zone", "node.labels.rack"}},
		{name: "api", share: 200, cons: []string{"node.labels.zone!=z0"}, spread: []string{"node.labels.zone"}},
		{name: "db", share: 40, cons: []string{"node.labels.storage==ssd"}, max: 2},
		{name: "cache", share: 100, spread: []string{"node.labels.rack"}},
		{name: "worker", share: 200},
		{name: "gpu", share: 9, cons: []string{"node.group==gpu"}},
		{name: "queue", share: 50, cons: []string{"node.labels.storage!=ssd"}, spread: []string{"node.labels.zone"}},
		{name: "ingress", share: 60, ports: []model.Port{{PublishedStart: 20000, PublishedEnd: 39999, Target: 80}}},
		{name: "search", share: 30, cons: []string{"node.platform.arch==amd64"}, spread: []string{"node.labels.zone", "node.labels.rack"}},
		{name: "logs", share: 11, spread: []string{"node.labels.rack"}, max: 3},
	}
	st := stack()
	for _, sp := range specs {
		s := svc(sp.name, replicas*sp.share/1000, sp.name+"-hash")
		// A per-node cap stays feasible when few members carry many
		// replicas: at least four times the average per member.
		limit := sp.max
		if limit > 0 {
			limit = max(limit, s.Deploy.Replicas*4/n+1)
		}
		s.Deploy.Placement = model.Placement{Constraints: sp.cons, Spread: sp.spread, MaxReplicasPerNode: limit}
		s.Ports = sp.ports
		st.Services = append(st.Services, s)
	}
	return st, &model.ClusterState{Members: members}
}

func benchPlan(b *testing.B, members, replicas int) {
	st, state := benchScenario(members, replicas)
	if _, _, err := Plan(st, state, Options{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Plan(st, state, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlan100x1000(b *testing.B)   { benchPlan(b, 100, 1000) }
func BenchmarkPlan100x10000(b *testing.B)  { benchPlan(b, 100, 10000) }
func BenchmarkPlan1000x1000(b *testing.B)  { benchPlan(b, 1000, 1000) }
func BenchmarkPlan1000x10000(b *testing.B) { benchPlan(b, 1000, 10000) }
func BenchmarkPlan1000x20000(b *testing.B) { benchPlan(b, 1000, 20000) }

// BenchmarkPlanConverged1000x10000 re-plans a deployed stack: the common
// reconcile case, all keeps.
func BenchmarkPlanConverged1000x10000(b *testing.B) {
	st, state := benchScenario(1000, 10000)
	plan, _, err := Plan(st, state, Options{})
	if err != nil {
		b.Fatal(err)
	}
	state = apply(b, state, st, plan, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Plan(st, state, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBenchScenarioPlaces guards the benchmark: its scenario must plan.
func TestBenchScenarioPlaces(t *testing.T) {
	st, state := benchScenario(1000, 10000)
	plan, _, err := Plan(st, state, Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range st.Services {
		n += s.Deploy.Replicas
	}
	if len(plan.Steps) != n || n != 10000 {
		t.Fatalf("%d steps for %d replicas", len(plan.Steps), n)
	}
}
