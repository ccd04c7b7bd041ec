package app

import (
	"fmt"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// TestWithHiddenSlots: rows for what the instance list hides, from a
// cluster snapshot alone: an unreadable instance on an offline member
// (service and slot from its name, never confused with a service whose
// name it starts with), a wanted slot with no instance, the volume a slot
// waits for; global services add no Missing rows.
func TestWithHiddenSlots(t *testing.T) {
	owned := func(name, svc, slot, member string) model.Instance {
		return model.Instance{Name: name, Project: "s", Member: member, Status: "Running",
			Config: map[string]string{model.KeyStack: "s", model.KeyService: svc, model.KeySlot: slot}}
	}
	state := &model.ClusterState{
		Members: []model.Member{{Name: "n1", Status: model.StatusOnline}, {Name: "n2", Status: model.StatusOffline}},
		Instances: []model.Instance{
			owned("web-1", "web", "1", "n1"),
			{Name: "web-api-2-b", Project: "s", Member: "n2", Status: "Error"},
			{Name: "db-1", Project: "s", Member: "n2", Status: "Error"},
			{Name: "other-1", Project: "t", Member: "n2", Status: "Error"}, // another stack
		},
		Volumes: []model.VolumeState{{Name: "data-1", Project: "s", Member: "n2",
			Config: map[string]string{model.KeyService: "db", model.KeySlot: "1"}}},
	}
	spec := &model.Stack{Name: "s", Services: []model.Service{
		{Name: "db", Deploy: model.DeploySpec{Mode: model.ModeReplicated, Replicas: 1}},
		{Name: "web", Deploy: model.DeploySpec{Mode: model.ModeReplicated, Replicas: 2}},
		{Name: "web-api", Deploy: model.DeploySpec{Mode: model.ModeReplicated, Replicas: 2}},
		{Name: "agent", Deploy: model.DeploySpec{Mode: model.ModeGlobal}},
	}}
	rows := withHiddenSlots(instancesOf(state, "s"), state, "s", spec)
	want := []string{
		"db/1 db-1 n2 Unknown: member n2 is offline: Incus cannot read this instance; the slot waits for its volume data-1 there",
		"web/1 web-1 n1 Running: ",
		"web/2   Missing: no instance: the next `stack up` or `stack watch` creates it",
		"web-api/1   Missing: no instance: the next `stack up` or `stack watch` creates it",
		"web-api/2 web-api-2-b n2 Unknown: member n2 is offline: Incus cannot read this instance",
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, r := range rows {
		if got := fmt.Sprintf("%s/%d %s %s %s: %s", r.Service, r.Slot, r.Instance, r.Member, r.State, r.Reason); got != want[i] {
			t.Errorf("row %d\n got %s\nwant %s", i, got, want[i])
		}
	}
	if got, want := statusSummary("s", rows), "stack s: 1 of 5 instances running; 2 unknown (member not online); 2 missing"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}
