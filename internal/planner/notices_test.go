package planner

import (
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// TestSpreadInstanceIDWarns: the seed's `spread: instanceId` plans like a
// spread over members and says so once per service.
func TestSpreadInstanceIDWarns(t *testing.T) {
	db := svc("db", 3, "h")
	db.Deploy.Placement.Spread = []string{"instanceId", "InstanceID"}
	plain := svc("web", 3, "h")
	plan, res, err := Plan(stack(db, plain), &model.ClusterState{Members: three()}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], `service db: spread preference "instanceId"`) ||
		!strings.Contains(res.Warnings[0], "spreading over members") {
		t.Fatalf("warnings %q", res.Warnings)
	}
	perMember := map[string]int{}
	for _, s := range plan.Steps {
		if s.Service == "db" {
			perMember[s.Member]++
		}
	}
	if len(perMember) != 3 {
		t.Fatalf("db not spread over members: %v", brief(plan.Steps))
	}
}
