package planner

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// volState is a cluster of three members on a local (dir) pool.
func volState(members ...model.Member) *model.ClusterState {
	if len(members) == 0 {
		members = []model.Member{online("node1"), online("node2"), online("node3")}
	}
	return &model.ClusterState{Members: members, RootPool: "local",
		StoragePools: []model.StoragePool{{Name: "local", Driver: "dir"}, {Name: "remote", Driver: "ceph"}}}
}

func slotVolume(name, member, service string, slot string) model.VolumeState {
	return model.VolumeState{Name: name, Project: stackName, Pool: "local", Member: member, Config: map[string]string{
		model.KeyStack: stackName, model.KeyVolume: "data", model.KeyService: service, model.KeySlot: slot}}
}

// dbStack is a replicated service mounting the volume "data".
func dbStack(replicas int, hash string, vols ...model.Volume) *model.Stack {
	db := svc("db", replicas, hash)
	db.Mounts = []model.Mount{{Type: model.MountVolume, Source: "data", Target: "/data"}}
	if len(vols) == 0 {
		vols = []model.Volume{{Name: "data"}}
	}
	st := stack(db)
	st.Volumes = vols
	return st
}

func wantSteps(t *testing.T, plan model.Plan, want ...string) {
	t.Helper()
	if got := brief(plan.Steps); !slices.Equal(got, want) {
		t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func wantWarning(t *testing.T, warnings []string, fragments ...string) {
	t.Helper()
	for _, w := range warnings {
		ok := true
		for _, f := range fragments {
			ok = ok && strings.Contains(w, f)
		}
		if ok {
			return
		}
	}
	t.Errorf("no warning with %q in %q", fragments, warnings)
}

// TestVolumesStickyPlacement: a slot whose volume lives on a member goes
// back there (shown as the reason); a slot without one is placed as usual
// and gets its volume created where it lands, as its own step.
func TestVolumesStickyPlacement(t *testing.T) {
	st := volState()
	st.Volumes = []model.VolumeState{slotVolume("data-1", "node3", "db", "1"), slotVolume("data-2", "node3", "db", "2")}
	plan, res, err := Plan(dbStack(3, "h"), st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantSteps(t, plan,
		"create-volume db/3 db-3@node1 [missing] vol=data-3",
		"create db/1 db-1@node3 [missing] sticky=data-1",
		"create db/2 db-2@node3 [missing] sticky=data-2",
		"create db/3 db-3@node1 [missing]",
	)
	for _, w := range res.Warnings {
		if strings.Contains(w, "root disk pool") {
			t.Errorf("services with volumes do not fail over empty, yet: %q", w)
		}
	}
}

// TestVolumesMemberLoss: a slot whose data is on an offline or evacuated
// member is never re-created empty elsewhere; it is kept with a loud
// warning, and moved (stop-first, with its volume) only on request and
// only off a member that still answers.
func TestVolumesMemberLoss(t *testing.T) {
	for _, c := range []struct {
		status string
		move   bool
		want   []string
		warn   []string
	}{
		{model.StatusOffline, false, []string{"keep db/1 db-1@node2"}, []string{"slot 1", "NOT re-created", "data-1", "node2", "offline", "move_volumes"}},
		{model.StatusOffline, true, []string{"keep db/1 db-1@node2"}, []string{"slot 1", "cannot be moved while node2 is offline"}},
		{model.StatusEvacuated, false, []string{"keep db/1 db-1@node2"}, []string{"slot 1", "node2", "evacuated"}},
		{model.StatusEvacuated, true, []string{
			"move-volume db/1 db-1@node1 [move_volumes] vol=data-1 from=node2",
			"replace db/1 db-1@node1 [member not eligible] (db-1@node2) stop-first#1",
		}, nil},
	} {
		t.Run(c.status+map[bool]string{true: "+move"}[c.move], func(t *testing.T) {
			st := volState(online("node1"), withStatus(online("node2"), c.status))
			st.Instances = []model.Instance{inst("db-1", "db", 1, "node2", "h")}
			st.Volumes = []model.VolumeState{slotVolume("data-1", "node2", "db", "1")}
			plan, res, err := Plan(dbStack(1, "h"), st, Options{MoveVolumes: c.move})
			if err != nil {
				t.Fatal(err)
			}
			wantSteps(t, plan, c.want...)
			if c.warn != nil {
				wantWarning(t, res.Warnings, c.warn...)
			}
		})
	}
}

// TestVolumesForceStopFirst: a single-writer volume on a local pool turns
// a start-first update into stop-first, with one warning; a volume
// declared shared keeps start-first (same member, alternate name).
func TestVolumesForceStopFirst(t *testing.T) {
	st := volState()
	st.Instances = []model.Instance{inst("db-1", "db", 1, "node1", "old"), inst("db-2", "db", 2, "node2", "old")}
	st.Volumes = []model.VolumeState{slotVolume("data-1", "node1", "db", "1"), slotVolume("data-2", "node2", "db", "2")}
	desired := dbStack(2, "new")
	desired.Services[0].Deploy.UpdateConfig.Order = model.OrderStartFirst
	plan, res, err := Plan(desired, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantSteps(t, plan,
		"replace db/1 db-1@node1 [config changed] (db-1@node1) stop-first#1",
		"replace db/2 db-2@node2 [config changed] (db-2@node2) stop-first#1",
	)
	n := 0
	for _, w := range res.Warnings {
		if strings.Contains(w, "start-first is not possible") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("want exactly one stop-first warning, got %q", res.Warnings)
	}

	desired = dbStack(2, "new", model.Volume{Name: "data", Shared: true})
	desired.Services[0].Deploy.UpdateConfig.Order = model.OrderStartFirst
	plan, _, err = Plan(desired, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantSteps(t, plan,
		"replace db/1 db-1-b@node1 [config changed] (db-1@node1) start-first#1",
		"replace db/2 db-2-b@node2 [config changed] (db-2@node2) start-first#1",
	)
}

// TestVolumesScaleDownKeepsUnlessPruned: the volume of a removed slot is
// kept (with a note) until prune_volumes deletes it, as its own step.
func TestVolumesScaleDownKeepsUnlessPruned(t *testing.T) {
	st := volState()
	st.Instances = []model.Instance{inst("db-1", "db", 1, "node1", "h"), inst("db-2", "db", 2, "node2", "h")}
	st.Volumes = []model.VolumeState{slotVolume("data-1", "node1", "db", "1"), slotVolume("data-2", "node2", "db", "2"),
		{Name: "stranger", Project: stackName, Pool: "local", Member: "node3"}} // not ours: never touched
	plan, res, err := Plan(dbStack(1, "h"), st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantSteps(t, plan, "delete db/2 db-2@node2 [scale down]", "keep db/1 db-1@node1")
	wantWarning(t, res.Warnings, "data-2 on node2 is kept", "prune_volumes")
	plan, _, err = Plan(dbStack(1, "h"), st, Options{PruneVolumes: true})
	if err != nil {
		t.Fatal(err)
	}
	wantSteps(t, plan, "delete db/2 db-2@node2 [scale down]", "keep db/1 db-1@node1", "delete-volume db/2 @node2 [prune] vol=data-2")
}

// TestVolumesGlobalAndShared: a global service gets one volume per member;
// a volume mounted by two services on a shared pool is one volume,
// created once.
func TestVolumesGlobalAndShared(t *testing.T) {
	agent := model.Service{Name: "agent", Hash: "h", Deploy: model.DeploySpec{Mode: model.ModeGlobal},
		Mounts: []model.Mount{{Type: model.MountVolume, Source: "cache", Target: "/c"}}}
	a := svc("a", 1, "h")
	a.Mounts = []model.Mount{{Type: model.MountVolume, Source: "shared", Target: "/s"}}
	b := svc("b", 1, "h")
	b.Mounts = a.Mounts
	desired := stack(a, agent, b)
	desired.Volumes = []model.Volume{{Name: "cache"}, {Name: "shared", Pool: "remote"}}
	plan, _, err := Plan(desired, volState(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var vols []string
	for _, s := range plan.Steps {
		if s.Op == model.OpVolumeCreate {
			vols = append(vols, s.Volume+"@"+s.Member)
		}
	}
	want := []string{"shared@", "cache-node1@node1", "cache-node2@node2", "cache-node3@node3"}
	if !slices.Equal(vols, want) {
		t.Errorf("volume creates %v, want %v", vols, want)
	}
}

// TestVolumesBadInput: every mistake is an error before any step.
func TestVolumesBadInput(t *testing.T) {
	a := svc("a", 1, "h")
	a.Mounts = []model.Mount{{Type: model.MountVolume, Source: "data", Target: "/d"}}
	b := svc("b", 1, "h")
	b.Mounts = a.Mounts
	unknown := stack(a)
	badPool := stack(a)
	badPool.Volumes = []model.Volume{{Name: "data", Pool: "nowhere"}}
	external := stack(a)
	external.Volumes = []model.Volume{{Name: "data", External: true, Incus: "legacy"}}
	// data's slot 1 is the Incus volume data-1: an external one of that
	// name, or a shared one (on a shared pool), would be the same volume.
	c := svc("c", 1, "h")
	c.Mounts = []model.Mount{{Type: model.MountVolume, Source: "old", Target: "/o"}}
	slotClash := stack(a, c)
	slotClash.Volumes = []model.Volume{{Name: "data"}, {Name: "old", External: true, Incus: "data-12"}}
	g := svc("g", 0, "h")
	g.Deploy.Mode = model.ModeGlobal
	g.Mounts = a.Mounts
	s1, s2 := svc("s1", 1, "h"), svc("s2", 1, "h")
	s1.Mounts = []model.Mount{{Type: model.MountVolume, Source: "data-node2", Target: "/s"}}
	s2.Mounts = s1.Mounts
	memberClash := stack(g, s1, s2)
	memberClash.Volumes = []model.Volume{{Name: "data"}, {Name: "data-node2", Pool: "remote"}}
	sharedGlobal := stack(a, g)
	sharedGlobal.Volumes = []model.Volume{{Name: "data"}}
	for _, c := range []struct {
		name      string
		desired   *model.Stack
		notFound  bool
		fragments []string
	}{
		{"shared on a local pool with a global service", sharedGlobal, false, []string{`volume "data"`, "a, g", `pool "local"`, "g is global", "ceph"}},
		{"unknown volume", unknown, false, []string{`"data"`, "not defined"}},
		{"unknown pool", badPool, false, []string{`pool "nowhere"`, "does not exist"}},
		{"slot name clash", slotClash, false, []string{`volumes "old" and "data" would be the same Incus volume data-12`, `slot 12 of service a`, "rename one"}},
		{"member name clash", memberClash, false, []string{`volumes "data-node2" and "data" would be the same Incus volume data-node2`, "member node2 of service g"}},
		{"missing external", external, true, []string{`"legacy"`, "does not exist", "incus storage volume create local legacy --project demo"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := volState()
			// The external data-12 exists: only the name clash is wrong.
			st.Volumes = []model.VolumeState{{Name: "data-12", Project: stackName, Pool: "local", Member: "node1"}}
			_, _, err := Plan(c.desired, st, Options{})
			var se *SpecError
			var nf *NotFoundError
			if c.notFound && !errors.As(err, &nf) || !c.notFound && !errors.As(err, &se) {
				t.Fatalf("error %v (%T)", err, err)
			}
			for _, f := range c.fragments {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("%q lacks %q", err, f)
				}
			}
		})
	}
}

// movedCopy is a finished copy of a slot volume moved from member from.
func movedCopy(name, member, from string) model.VolumeState {
	v := slotVolume(name, member, "db", "1")
	v.Config[model.KeyMovedFrom] = from
	return v
}

// TestVolumesStaleCopyAfterCutShortMove: a move killed between copy and
// delete leaves two copies; the slot runs with the finished copy, and the
// stale source is deleted only by a run that moves volumes.
func TestVolumesStaleCopyAfterCutShortMove(t *testing.T) {
	st := volState()
	st.Volumes = []model.VolumeState{slotVolume("data-1", "node1", "db", "1"), movedCopy("data-1", "node2", "node1")}
	desired := dbStack(1, "h")
	desired.Services[0].Deploy.Placement.Constraints = []string{"node.hostname != node1"}
	plan, res, err := Plan(desired, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantSteps(t, plan, "create db/1 db-1@node2 [missing] sticky=data-1")
	wantWarning(t, res.Warnings, "data-1 has a stale copy on node1")
	plan, _, err = Plan(desired, st, Options{MoveVolumes: true})
	if err != nil {
		t.Fatal(err)
	}
	wantSteps(t, plan, "create db/1 db-1@node2 [missing] sticky=data-1",
		"delete-volume db/1 @node1 [stale copy (a move was cut short)] vol=data-1")
}

// TestVolumesExternalPullsTheSlotHome: an instance running away from the
// member that holds its (newly attached, external) volume moves there,
// stop-first; a stale copy never pulls a running slot off its own copy.
func TestVolumesExternalPullsTheSlotHome(t *testing.T) {
	st := volState()
	st.Instances = []model.Instance{inst("db-1", "db", 1, "node1", "old")}
	st.Volumes = []model.VolumeState{{Name: "legacy", Project: stackName, Pool: "local", Member: "node3"}}
	plan, _, err := Plan(dbStack(1, "new", model.Volume{Name: "data", External: true, Incus: "legacy"}), st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantSteps(t, plan, "replace db/1 db-1@node3 [volume legacy lives on node3] (db-1@node1) stop-first#1 sticky=legacy")

	st.Instances = []model.Instance{inst("db-1", "db", 1, "node2", "h")}
	st.Volumes = []model.VolumeState{slotVolume("data-1", "node1", "db", "1"), movedCopy("data-1", "node2", "node1")}
	plan, res, err := Plan(dbStack(1, "h"), st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantSteps(t, plan, "keep db/1 db-1@node2")
	wantWarning(t, res.Warnings, "data-1 has a stale copy on node1")
}

// TestVolumesUnfinishedCopyNeverWins: a same-named volume on another
// member without the mark of a finished move (an interrupted copy, one
// made by hand) is never taken for the data: a move onto it is refused
// before anything changes, and no copy is deleted as stale.
func TestVolumesUnfinishedCopyNeverWins(t *testing.T) {
	st := volState()
	st.Instances = []model.Instance{inst("db-1", "db", 1, "node1", "h")}
	st.Volumes = []model.VolumeState{slotVolume("data-1", "node1", "db", "1"), {Name: "data-1", Project: stackName, Pool: "local", Member: "node2"}}
	desired := dbStack(1, "h")
	desired.Services[0].Deploy.Placement.Constraints = []string{"node.hostname == node2"}
	_, _, err := Plan(desired, st, Options{MoveVolumes: true})
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("want a conflict, got %v (%T)", err, err)
	}
	for _, f := range []string{"data-1 cannot be moved from node1 to node2", "not a finished copy", "incus storage volume delete local data-1 --target node2 --project " + stackName} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("%q lacks %q", err, f)
		}
	}
	// The slot where its data is: the other copy is reported, not deleted.
	plan, res, err := Plan(dbStack(1, "h"), st, Options{MoveVolumes: true})
	if err != nil {
		t.Fatal(err)
	}
	wantSteps(t, plan, "keep db/1 db-1@node1")
	wantWarning(t, res.Warnings, "not a finished copy of the one on node2", "neither is deleted")
}

// TestVolumesPoolChangeRefused: a volume whose data lives in one pool is
// not silently replaced by an empty one in another, whether x-incus.pool
// changed or the root pool it followed did; once no data is left behind
// (moved by hand), the new pool is used.
func TestVolumesPoolChangeRefused(t *testing.T) {
	st := volState()
	st.Instances = []model.Instance{inst("db-1", "db", 1, "node1", "h")}
	st.Volumes = []model.VolumeState{slotVolume("data-1", "node1", "db", "1")}
	for _, c := range []struct {
		name    string
		desired *model.Stack
		state   func(*model.ClusterState)
	}{
		{"x-incus.pool", dbStack(1, "h", model.Volume{Name: "data", Pool: "remote"}), func(*model.ClusterState) {}},
		{"root pool", dbStack(1, "h"), func(s *model.ClusterState) { s.RootPool = "remote" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := *st
			c.state(&s)
			_, _, err := Plan(c.desired, &s, Options{ForceRecreate: true, MoveVolumes: true})
			var ce *ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("want a conflict, got %v (%T)", err, err)
			}
			for _, f := range []string{`volume "data" is now asked for in storage pool "remote"`, `lives in pool "local" (data-1 on node1 in pool local)`,
				"incus storage volume copy local/data-1 remote/data-1 --target node1 --project " + stackName} {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("%q lacks %q", err, f)
				}
			}
		})
	}
	moved := *st
	moved.Volumes = append(moved.Volumes, model.VolumeState{Name: "data-1", Project: stackName, Pool: "remote", Config: st.Volumes[0].Config})
	if _, _, err := Plan(dbStack(1, "h", model.Volume{Name: "data", Pool: "remote"}), &moved, Options{}); err != nil {
		t.Errorf("with the data in the new pool: %v", err)
	}
}

// TestVolumesRenamedMemberKeepsItsData: node3 was renamed from old3; its
// global volume data-old3 (owner key old3) lives on node3. The slot on
// node3 is not given an empty data-node3 beside it (conflict naming the
// rename to make), and prune_volumes never deletes it.
func TestVolumesRenamedMemberKeepsItsData(t *testing.T) {
	g := svc("g", 0, "h")
	g.Deploy.Mode = model.ModeGlobal
	g.Mounts = []model.Mount{{Type: model.MountVolume, Source: "data", Target: "/d"}}
	desired := stack(g)
	desired.Volumes = []model.Volume{{Name: "data"}}
	st := volState()
	for _, m := range []string{"node1", "node2"} {
		st.Volumes = append(st.Volumes, model.VolumeState{Name: "data-" + m, Project: stackName, Pool: "local", Member: m,
			Config: map[string]string{model.KeyStack: stackName, model.KeyVolume: "data", model.KeyService: "g", model.KeyVolumeMember: m}})
	}
	st.Volumes = append(st.Volumes, model.VolumeState{Name: "data-old3", Project: stackName, Pool: "local", Member: "node3",
		Config: map[string]string{model.KeyStack: stackName, model.KeyVolume: "data", model.KeyService: "g", model.KeyVolumeMember: "old3"}})
	_, _, err := Plan(desired, st, Options{PruneVolumes: true})
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("want a conflict, got %v (%T)", err, err)
	}
	for _, f := range []string{"volume data-old3 there holds the data of old3", "incus storage volume rename local data-old3 data-node3 --target node3 --project " + stackName} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("%q lacks %q", err, f)
		}
	}
	// The service gone: its volumes are orphans, but the renamed
	// member's one is not pruned.
	plan, res, err := Plan(stack(), st, Options{PruneVolumes: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range plan.Steps {
		if s.Op == model.OpVolumeDelete && s.Volume == "data-old3" {
			t.Errorf("the renamed member's volume is pruned: %+v", s)
		}
	}
	wantWarning(t, res.Warnings, "data-old3 on node3 belongs to member old3", "kept, even with prune_volumes")
}
