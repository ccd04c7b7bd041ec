package planner

import (
	"slices"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// TestPlanLeavesOfflineInstancesAlone: Incus cannot stop or delete an
// instance on an offline member, so the plan never asks it to; each such
// instance gets a warning instead, and its slot still runs elsewhere.
func TestPlanLeavesOfflineInstancesAlone(t *testing.T) {
	members := []model.Member{online("node1"), online("node2"), withStatus(online("node3"), model.StatusOffline)}
	agent := model.Service{Name: "agent", Hash: "h", Deploy: model.DeploySpec{Mode: model.ModeGlobal}}
	state := &model.ClusterState{Members: members, Instances: []model.Instance{
		inst("web-1", "web", 1, "node1", "h"),
		inst("web-2", "web", 2, "node3", "h"),   // lost: slot 2 must run elsewhere
		inst("web-2-b", "web", 2, "node2", "h"), // already re-created by an earlier run
		inst("web-3", "web", 3, "node3", "h"),   // scaled away, but unreachable
		inst("agent-1", "agent", 1, "node1", "h"),
		inst("agent-3", "agent", 3, "node3", "h"), // global: belongs to node3, waits for it
		inst("old-1", "old", 1, "node3", "h"),     // orphan on the offline member
		inst("old-2", "old", 2, "node2", "h"),     // orphan elsewhere: deleted as usual
	}}
	plan, res, err := Plan(stack(agent, svc("web", 2, "h")), state, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"create agent/2 agent-2@node2 [missing]",
		"keep agent/1 agent-1@node1",
		"keep web/1 web-1@node1",
		"keep web/2 web-2-b@node2",
		"delete old/2 old-2@node2 [orphan]",
	}
	if got := brief(plan.Steps); !slices.Equal(got, want) {
		t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantWarn := []string{
		"instance agent-3 (agent slot 3) on offline member node3 should be deleted (member not eligible)",
		"instance web-2 (web slot 2) on offline member node3 should be deleted (duplicate slot)",
		"instance web-3 (web slot 3) on offline member node3 should be deleted (scale down)",
		"instance old-1 (old slot 1) on offline member node3 should be deleted (orphan)",
	}
	if len(res.Warnings) != len(wantWarn) {
		t.Fatalf("warnings %q", res.Warnings)
	}
	for i, w := range wantWarn {
		if !strings.HasPrefix(res.Warnings[i], w) || !strings.Contains(res.Warnings[i], "left in place") {
			t.Errorf("warning %d = %q, want prefix %q", i, res.Warnings[i], w)
		}
	}

	// Once node3 is back, the duplicate is an ordinary delete again.
	members[2].Status = model.StatusOnline
	plan, _, err = Plan(stack(agent, svc("web", 2, "h")), state, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var deletes []string
	for _, s := range plan.Steps {
		if s.Op == model.OpDelete {
			deletes = append(deletes, s.Instance+"@"+s.Member)
		}
	}
	slices.Sort(deletes)
	if want := []string{"old-1@node3", "old-2@node2", "web-2-b@node2", "web-3@node3"}; !slices.Equal(deletes, want) {
		t.Fatalf("deletes after node3 is back: %v, want %v", deletes, want)
	}
}

// TestPlanMovesReplicaOffOfflineMember: the lost slot is placed on another
// eligible member (a replace whose old instance is on the offline member).
func TestPlanMovesReplicaOffOfflineMember(t *testing.T) {
	members := []model.Member{online("node1"), online("node2"), withStatus(online("node3"), model.StatusOffline)}
	state := &model.ClusterState{Members: members, Instances: []model.Instance{
		inst("web-1", "web", 1, "node1", "h"), inst("web-2", "web", 2, "node2", "h"), inst("web-3", "web", 3, "node3", "h"),
	}}
	plan, _, err := Plan(stack(svc("web", 3, "h")), state, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var moved *model.Step
	for i, s := range plan.Steps {
		if s.Op == model.OpReplace {
			moved = &plan.Steps[i]
		}
		if s.Op == model.OpDelete || s.Member == "node3" {
			t.Errorf("step touches the offline member: %s", brief([]model.Step{s}))
		}
	}
	if moved == nil || moved.Slot != 3 || moved.OldMember != "node3" || moved.OldInstance != "web-3" ||
		moved.Reason != model.ReasonMemberLost || (moved.Member != "node1" && moved.Member != "node2") {
		t.Fatalf("slot 3 not moved off node3: %v", brief(plan.Steps))
	}
}

// TestPlanAvoidsUnreadableNames: Incus lists an instance on an offline
// member without its config, so its slot counts as missing and is
// re-created elsewhere under a name nobody holds.
func TestPlanAvoidsUnreadableNames(t *testing.T) {
	members := []model.Member{online("node1"), online("node2"), withStatus(online("node3"), model.StatusOffline)}
	state := &model.ClusterState{Members: members, Instances: []model.Instance{
		inst("web-1", "web", 1, "node1", "h"), inst("web-2", "web", 2, "node2", "h"),
		{Name: "web-3", Project: stackName, Member: "node3", Status: "Error"}, // config unreadable
		{Name: "web-3-b", Project: stackName, Member: "node2", Status: "Running"},
		{Name: "web-4", Project: "elsewhere", Member: "node1"}, // other project: no clash
	}}
	web := svc("web", 4, "h")
	plan, res, err := Plan(stack(web), state, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"create web/3 web-3-c@node1 [missing]",
		"create web/4 web-4@node2 [missing]",
		"keep web/1 web-1@node1",
		"keep web/2 web-2@node2",
	}
	if got := brief(plan.Steps); !slices.Equal(got, want) {
		t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(res.Warnings) != 1 || !strings.HasPrefix(res.Warnings[0], "instance web-3 is on offline member node3, which cannot report what it runs") {
		t.Fatalf("warnings %q", res.Warnings)
	}
}

func TestLetters(t *testing.T) {
	for k, want := range map[int]string{1: "b", 2: "c", 25: "z", 26: "bb", 27: "bc", 50: "bz", 51: "cb"} {
		if got := letters(k); got != want {
			t.Errorf("letters(%d) = %q, want %q", k, got, want)
		}
	}
	taken := map[string]bool{"web-1": true, "web-1-b": true}
	if got := freeName("web-1", taken); got != "web-1-c" {
		t.Errorf("freeName = %q", got)
	}
	if got := freeName("web-2", taken); got != "web-2" {
		t.Errorf("freeName of a free name = %q", got)
	}
}

// TestStartFirstAvoidsUnreadableAlternate: a start-first update whose
// alternate name is held by an unreadable instance picks another one.
func TestStartFirstAvoidsUnreadableAlternate(t *testing.T) {
	members := []model.Member{online("node1"), online("node2"), withStatus(online("node3"), model.StatusOffline)}
	web := svc("web", 1, "h2")
	web.Deploy.UpdateConfig = model.UpdateConfig{Parallelism: 1, Order: model.OrderStartFirst}
	state := &model.ClusterState{Members: members, Instances: []model.Instance{
		inst("web-1", "web", 1, "node1", "h1"),
		{Name: "web-1-b", Project: stackName, Member: "node3", Status: "Error"},
	}}
	plan, _, err := Plan(stack(web), state, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Steps) != 1 || plan.Steps[0].Op != model.OpReplace || plan.Steps[0].Instance != "web-1-b-b" {
		t.Fatalf("steps %v", brief(plan.Steps))
	}
}
