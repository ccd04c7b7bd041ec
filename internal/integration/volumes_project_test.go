package integration

import (
	"strings"
	"testing"
)

// oldStackProject creates a stack project the way incus-fleet did before
// named volumes: every feature but instances off.
func oldStackProject(t *testing.T, stack string) {
	t.Helper()
	mustIncus(t, "project", "create", stack, "-c", "user.fleet.stack="+stack, "-c", "features.images=false",
		"-c", "features.profiles=false", "-c", "features.storage.volumes=false", "-c", "features.storage.buckets=false",
		"-c", "features.networks=false", "-c", "features.networks.zones=false")
}

// TestVolumesOldProjects: a stack project made before volumes is switched
// to features.storage.volumes on the first deploy that needs it while it
// holds no instances; with instances the deploy is refused clearly
// (conflict, naming the fix) and nothing changes.
func TestVolumesOldProjects(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	testbed(t)
	withVolume := "services:\n  db: {image: busybox, volumes: [\"data:/data\"]}\nvolumes:\n  data: {}\n"
	withoutVolume := "services:\n  db: {image: busybox}\n"

	const empty = "it-volold-empty"
	removeWithVolumes(t, empty)
	oldStackProject(t, empty)
	call(t, "stack.present", false, map[string]any{"name": empty, "compose_yaml": withVolume}).mustSucceed(t)
	if out := mustIncus(t, "project", "get", empty, "features.storage.volumes"); strings.TrimSpace(out) != "true" {
		t.Errorf("the empty old project was not migrated: features.storage.volumes=%q", out)
	}
	if len(customVolumes(t, empty)["data-1"]) != 1 {
		t.Errorf("no volume in the migrated project: %v", customVolumes(t, empty))
	}

	const busy = "it-volold-busy"
	removeWithVolumes(t, busy)
	oldStackProject(t, busy)
	call(t, "stack.present", false, map[string]any{"name": busy, "compose_yaml": withoutVolume}).mustSucceed(t)
	r := call(t, "stack.present", false, map[string]any{"name": busy, "compose_yaml": withVolume})
	if r.Error == nil || r.Error.Code != "conflict" || !strings.Contains(r.Error.Message, "stack rm") {
		t.Fatalf("want a conflict naming the fix, got %s", r.Raw)
	}
	if out := mustIncus(t, "project", "get", busy, "features.storage.volumes"); strings.TrimSpace(out) != "false" {
		t.Errorf("the refused project changed: %q", out)
	}
	if insts, _ := dbPlacement(t, busy); len(insts) != 1 || !strings.HasSuffix(insts["db-1"], "/Running") {
		t.Errorf("the refused deploy changed the instances: %v", insts)
	}
}
