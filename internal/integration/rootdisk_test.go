package integration

import (
	"os/exec"
	"strings"
	"testing"
)

// TestMissingRootDiskFailsBeforeCreating: without a root disk in the
// profile its instances would get, stack.present says so while planning
// and creates nothing. The test never touches the shared default profile
// (a running stack, `make demo`'s, uses it and Incus refuses to strip it):
// the stack's project is made beforehand with profiles of its own, whose
// default profile has no root disk.
func TestMissingRootDiskFailsBeforeCreating(t *testing.T) {
	srv := testbed(t)
	const stack = "it-no-root"
	exec.Command("incus", "project", "delete", stack).Run() //nolint:errcheck // left over from an earlier run
	mustIncus(t, "project", "create", stack, "-c", "features.profiles=true", "-c", "features.images=false",
		"-c", "user.fleet.stack="+stack)
	cleanup(t, stack)
	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": composeWeb(2)})
	if r.Exit != 1 || r.Error == nil || r.Error.Code != "not_found" || !strings.Contains(r.Error.Message, "no root disk") {
		t.Fatalf("want not_found naming the missing root disk, got %s", r.Raw)
	}
	if !strings.Contains(r.Error.Message, "--project "+stack) {
		t.Errorf("the fix in the message should name the stack's project: %s", r.Error.Message)
	}
	if got := placement(t, srv, stack); len(got) != 0 {
		t.Errorf("the failed deploy created %v", got)
	}
}
