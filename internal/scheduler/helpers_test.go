package scheduler

import (
	"fmt"
	"slices"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// member builds an online member with labels given as k=v pairs.
func member(name string, kv ...string) model.Member {
	m := model.Member{Name: name, Status: model.StatusOnline, Architecture: "x86_64", Labels: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		m.Labels[kv[i]] = kv[i+1]
	}
	return m
}

func replicated(name string, n int) *model.Service {
	return &model.Service{Name: name, Deploy: model.DeploySpec{Mode: model.ModeReplicated, Replicas: n}}
}

func mustService(t testing.TB, c *Cluster, svc *model.Service) *Service {
	t.Helper()
	s, err := c.Service(svc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tally counts placements per member, as "name=n" sorted by name.
func tally(placed []string) []string {
	n := map[string]int{}
	for _, p := range placed {
		n[p]++
	}
	var out []string
	for k, v := range n {
		out = append(out, fmt.Sprintf("%s=%d", k, v))
	}
	slices.Sort(out)
	return out
}
