package planner

import (
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Issue 23: a slot on an offline member whose volume is on a shared pool
// (ceph here: the test bed has none, so the planner's decisions are what
// is tested) is not re-created elsewhere on the same volume while the
// member may only be cut off and still writing; it is when the operator
// allows the failover, and at once when the member is evacuated.
func TestSharedVolumeSlotWaitsForItsOfflineMember(t *testing.T) {
	desired := dbStack(1, "h", model.Volume{Name: "data", Pool: "remote"})
	state := func(status string) *model.ClusterState {
		down := online("node2")
		down.Status = status
		st := volState(online("node1"), down, online("node3"))
		st.Instances = []model.Instance{inst("db-1", "db", 1, "node2", "h")}
		st.Volumes = []model.VolumeState{{Name: "data-1", Project: stackName, Pool: "remote",
			Config: map[string]string{model.KeyStack: stackName, model.KeyVolume: "data", model.KeyService: "db", model.KeySlot: "1"}}}
		return st
	}
	plan, res, err := Plan(desired, state(model.StatusOffline), Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantSteps(t, plan, "keep db/1 db-1@node2")
	wantWarning(t, res.Warnings, "db slot 1 is NOT re-created elsewhere: member node2 is offline", "volume data-1 on a shared pool", "failover_shared_volumes: true")

	for name, c := range map[string]struct {
		status string
		opts   Options
	}{
		"failover allowed": {model.StatusOffline, Options{FailoverSharedVolumes: true}},
		"evacuated":        {model.StatusEvacuated, Options{}},
	} {
		plan, _, err := Plan(desired, state(c.status), c.opts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := strings.Join(brief(plan.Steps), "\n")
		if !strings.HasPrefix(got, "replace db/1 ") || !strings.Contains(got, "@node1 ") || !strings.Contains(got, "(db-1@node2)") {
			t.Errorf("%s: the slot should be re-created on another member:\n%s", name, got)
		}
	}
}
