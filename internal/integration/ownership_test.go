package integration

import (
	"os/exec"
	"strings"
	"testing"
)

// mustIncus runs the incus client against the test bed and fails the test
// when it fails.
// TestCopyInOtherProjectIsNotAReplica (issue 12 item 1): a backup copy of
// a replica in another project carries every user.fleet.* key, but it is
// not the stack's. Re-applying must neither plan a duplicate nor stop or
// delete the running replica, and must leave the copy alone.
func TestCopyInOtherProjectIsNotAReplica(t *testing.T) {
	srv := testbed(t)
	const stack, backup = "it-own", "it-own-backup"
	cleanup(t, stack)
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": composeWeb(2)}).mustSucceed(t)
	before := placement(t, srv, stack)

	exec.Command("incus", "project", "delete", backup).Run() //nolint:errcheck // left over from an earlier run
	mustIncus(t, "project", "create", backup, "-c", "features.images=false", "-c", "features.profiles=false")
	t.Cleanup(func() {
		exec.Command("incus", "delete", "--force", "--project", backup, "web-1").Run() //nolint:errcheck
		exec.Command("incus", "project", "delete", backup).Run()                       //nolint:errcheck
	})
	mustIncus(t, "snapshot", "create", "--project", stack, "web-1", "snap")
	target := "node2"
	if before["web-1"] == "node2" {
		target = "node3"
	}
	mustIncus(t, "copy", "--project", stack, "web-1/snap", "web-1", "--target-project", backup, "--target", target)
	if got := instanceConfig(t, srv, backup, "web-1")["user.fleet.stack"]; got != stack {
		t.Fatalf("the copy should carry the stack's keys (user.fleet.stack=%q) for this test to mean anything", got)
	}

	for range 2 { // "it happens again on every run"
		r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": composeWeb(2)}).mustSucceed(t)
		for _, s := range r.Plan.Steps {
			if s.Op != "keep" {
				t.Errorf("plan step %s %s (%s): want every replica kept", s.Op, s.Instance, s.Reason)
			}
		}
		if len(r.Changes) != 0 {
			t.Errorf("re-apply changed %s", r.Raw)
		}
	}
	after := placement(t, srv, stack) // also fails on anything not Running
	if names(after) != names(before) || after["web-1"] != before["web-1"] {
		t.Errorf("replicas %v after re-apply, want %v untouched", after, before)
	}
	if _, _, err := srv.UseProject(backup).GetInstance("web-1"); err != nil {
		t.Errorf("the backup copy is gone: %v", err)
	}
	st := call(t, "stack.status", false, map[string]any{"name": stack}).mustSucceed(t)
	if strings.Contains(string(st.Raw), backup) {
		t.Errorf("stack.status lists the copy in %s: %s", backup, st.Raw)
	}
}
