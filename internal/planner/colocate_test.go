package planner

import (
	"errors"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/scheduler"
)

// sharingStack: web (replicas) and worker (1 replica) mount the volume
// "data"; cache and worker share "tmp", so all three form one group; api
// shares nothing and is placed freely.
func sharingStack(webReplicas int, web, worker []string) *model.Stack {
	w := svc("web", webReplicas, "h")
	w.Mounts = []model.Mount{{Type: model.MountVolume, Source: "data", Target: "/d"}}
	w.Deploy.Placement.Constraints = web
	k := svc("worker", 1, "h")
	k.Mounts = []model.Mount{{Type: model.MountVolume, Source: "data", Target: "/d"}, {Type: model.MountVolume, Source: "tmp", Target: "/t"}}
	k.Deploy.Placement.Constraints = worker
	c := svc("cache", 1, "h")
	c.Mounts = []model.Mount{{Type: model.MountVolume, Source: "tmp", Target: "/t"}}
	st := stack(c, svc("api", 2, "h"), w, k)
	st.Volumes = []model.Volume{{Name: "data"}, {Name: "tmp"}}
	return st
}

// TestColocateSharedLocalVolume: services sharing a volume on a local pool
// run on one member, the volume is created there once, and a warning says
// so; the choice follows existing data and constraints, and constraints
// that leave no common member are refused, naming services, volume and
// constraints.
func TestColocateSharedLocalVolume(t *testing.T) {
	shared := "services cache, web, worker share volumes data, tmp on local pool local (dir), which one member holds: they are placed together on member "
	for _, c := range []struct {
		name    string
		desired *model.Stack
		volumes []model.VolumeState
		member  string // where the group lands; "" = refused
		errAs   string // "spec" or "nosuitable" when refused
		errHas  []string
	}{
		{name: "fresh", desired: sharingStack(2, nil, nil), member: "node1"},
		{name: "data already on node3", desired: sharingStack(2, nil, nil), member: "node3",
			volumes: []model.VolumeState{{Name: "data", Project: stackName, Pool: "local", Member: "node3"}}},
		{name: "constraint of one service decides", desired: sharingStack(2, nil, []string{"node.hostname == node2"}), member: "node2"},
		{name: "constraints exclude each other", desired: sharingStack(2, []string{"node.hostname == node1"}, []string{"node.hostname == node3"}), errAs: "spec",
			errHas: []string{"services cache, web, worker share volumes data, tmp on local pool local (dir)", "no member is eligible for all of them",
				"web (constraints node.hostname == node1) can run on node1", "worker (constraints node.hostname == node3) can run on node3", "cache (no constraints) can run on node1, node2, node3"}},
		{name: "cap cannot hold the replicas on one member", desired: func() *model.Stack {
			st := sharingStack(2, nil, nil)
			st.Service("web").Deploy.Placement.MaxReplicasPerNode = 1
			return st
		}(), errAs: "nosuitable", errHas: []string{"no suitable node for web (1 replica)", "co-location on member node1 (services cache, web, worker share volumes data, tmp", "excluded 2 of 3 members"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := volState()
			st.Volumes = c.volumes
			plan, res, err := Plan(c.desired, st, Options{})
			if c.member == "" {
				var se *SpecError
				var ns *scheduler.NoSuitableNodeError
				if c.errAs == "spec" && !errors.As(err, &se) || c.errAs == "nosuitable" && !errors.As(err, &ns) {
					t.Fatalf("error %v (%T), want %s", err, err, c.errAs)
				}
				for _, f := range c.errHas {
					if !strings.Contains(err.Error(), f) {
						t.Errorf("%q lacks %q", err, f)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantWarning(t, res.Warnings, shared+c.member)
			creates := 0
			for _, s := range plan.Steps {
				if s.Service == "api" {
					continue
				}
				if s.Member != c.member {
					t.Errorf("step %v not on %s", brief([]model.Step{s}), c.member)
				}
				if s.Op == model.OpVolumeCreate {
					creates++
				}
			}
			if want := 2 - len(c.volumes); creates != want {
				t.Errorf("%d volume creates, want %d:\n%s", creates, want, strings.Join(brief(plan.Steps), "\n"))
			}
		})
	}
}

// TestColocateDataOnAnOfflineMember: the shared volume lives on an
// offline member: no pin moves the group away from its data; the slots
// wait for the member (sticky placement's warning) instead of starting
// empty elsewhere.
func TestColocateDataOnAnOfflineMember(t *testing.T) {
	st := volState(online("node1"), withStatus(online("node2"), model.StatusOffline), online("node3"))
	st.Volumes = []model.VolumeState{{Name: "data", Project: stackName, Pool: "local", Member: "node2"}, {Name: "tmp", Project: stackName, Pool: "local", Member: "node2"}}
	plan, res, err := Plan(sharingStack(1, nil, nil), st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range plan.Steps {
		if s.Service != "api" {
			t.Errorf("step %v: the group's data is on offline node2, nothing may start elsewhere", brief([]model.Step{s}))
		}
	}
	wantWarning(t, res.Warnings, "service web slot 1 is NOT re-created elsewhere", "node2")
}

// TestColocateMovesStrayInstance: an instance of the group running away
// from the volume's member is moved there.
func TestColocateMovesStrayInstance(t *testing.T) {
	st := volState()
	st.Volumes = []model.VolumeState{{Name: "data", Project: stackName, Pool: "local", Member: "node2"}, {Name: "tmp", Project: stackName, Pool: "local", Member: "node2"}}
	st.Instances = []model.Instance{inst("web-1", "web", 1, "node2", "h"), inst("web-2", "web", 2, "node2", "h"),
		inst("worker-1", "worker", 1, "node1", "h"), inst("cache-1", "cache", 1, "node2", "h")}
	plan, _, err := Plan(sharingStack(2, nil, nil), st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range plan.Steps {
		if s.Service == "worker" && (s.Op != model.OpReplace || s.Member != "node2" || s.OldMember != "node1") {
			t.Errorf("worker step %v, want a replace from node1 to node2", brief([]model.Step{s}))
		}
	}
}
