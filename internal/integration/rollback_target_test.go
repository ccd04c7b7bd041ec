package integration

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// TestRollbackAfterPausedUpdate (issue 12 item 3): after a paused update
// stack.rollback returns every slot to the spec that ran before the update
// began (a stack deployed once has no "previous" spec, yet this works), and
// the record agrees: that spec again changes nothing.
func TestRollbackAfterPausedUpdate(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-rollback-paused"
	cleanup(t, stack)
	v1 := gatedCompose("1", "true", "pause")
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": v1}).mustSucceed(t)
	old := hashes(t, srv, stack)["1"]
	wantError(t, call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": gatedCompose("2", "false", "pause")}), "update_paused")

	call(t, "stack.rollback", false, map[string]any{"name": stack}).mustSucceed(t)
	if n := countHash(hashes(t, srv, stack), old); n != 3 {
		t.Errorf("after the rollback %d of 3 slots run the spec from before the update: %v", n, hashes(t, srv, stack))
	}
	placement(t, srv, stack) // every instance Running
	if r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": v1}).mustSucceed(t); len(r.Changes) != 0 {
		t.Errorf("the rolled-back-to spec is not current in the record: %s", r.Raw)
	}
}

// TestRollbackAfterCrashedUpdate (issue 12 item 3): an update killed
// half-way leaves the record saying what ran before it; stack.rollback goes
// back there.
func TestRollbackAfterCrashedUpdate(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-rollback-crashed"
	cleanup(t, stack)
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": gatedCompose("1", "true", "pause")}).mustSucceed(t)
	old := hashes(t, srv, stack)["1"]
	if !crashRun(t, stack, gatedCompose("2", "true", "pause"), "stop-first-old-gone:2") {
		t.Fatal("the update was not killed")
	}
	call(t, "stack.rollback", false, map[string]any{"name": stack}).mustSucceed(t)
	checkConverged(t, srv, stack, map[string]int{"web": 3})
	if n := countHash(hashes(t, srv, stack), old); n != 3 {
		t.Errorf("after the rollback %d of 3 slots run the spec from before the update: %v", n, hashes(t, srv, stack))
	}
}

// TestCrashInsideRollback (issue 12 items 3 and the crash-point extension):
// an automatic rollback, and then a manual one, killed at points inside the
// rollback (its gate, between its batches, a slot's old instance gone);
// stack.rollback afterwards still aims at the spec from before the update,
// converges there, and the record agrees.
func TestCrashInsideRollback(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	// parallelism 2: two slots go down in the update's first batch, so the
	// rollback (parallelism 1) has two batches to be killed between.
	compose := func(v, test string) string {
		return strings.Replace(gatedCompose(v, test, "rollback"), "parallelism: 1, order", "parallelism: 2, order", 1)
	}
	cases := []struct{ action, point string }{
		{"stack.present", "rollback-gate:1"},
		{"stack.present", "rollback-between-batches:1"},
		{"stack.present", "rollback-stop-first-old-gone:2"},
		{"stack.present", "rollback-gate-passed-not-recorded:1"},
		{"stack.rollback", "rollback-stop-first-old-gone:1"},
	}
	for i, c := range cases {
		t.Run(c.action+"@"+c.point, func(t *testing.T) {
			stack := fmt.Sprintf("it-crash-rb-%d", i)
			cleanup(t, stack)
			call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose("1", "true")}).mustSucceed(t)
			old := hashes(t, srv, stack)["1"]
			bad := compose("2", "false")
			if c.action == "stack.rollback" {
				// A paused update first (failure_action pause), then the
				// manual rollback is killed half-way.
				wantError(t, call(t, "stack.present", false, map[string]any{"name": stack,
					"compose_yaml": strings.Replace(bad, "failure_action: rollback", "failure_action: pause", 1)}), "update_paused")
				if !crashCall(t, "stack.rollback", map[string]any{"name": stack}, c.point) {
					t.Fatalf("the rollback was not killed at %s", c.point)
				}
			} else if !crashRun(t, stack, bad, c.point) {
				t.Fatalf("the run was not killed at %s", c.point)
			}
			call(t, "stack.rollback", false, map[string]any{"name": stack}).mustSucceed(t)
			checkConverged(t, srv, stack, map[string]int{"web": 3})
			if n := countHash(hashes(t, srv, stack), old); n != 3 {
				t.Errorf("after the rollback %d of 3 slots run the spec from before the update: %v", n, hashes(t, srv, stack))
			}
			if r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose("1", "true")}).mustSucceed(t); len(r.Changes) != 0 {
				t.Errorf("the spec from before the update is not current after the rollback: %s", r.Raw)
			}
		})
	}
}

// TestRollbackChecksImagesFirst (issue 12 item 5): when an image of the
// rollback target is gone from the cluster and its recorded source no
// longer serves it, stack.rollback fails with not_found before touching a
// single slot.
func TestRollbackChecksImagesFirst(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-rollback-image"
	const alias = "it-rollback-image-v1"
	cleanup(t, stack)
	exec.Command("incus", "image", "delete", alias).Run()                       //nolint:errcheck // left over from an earlier run
	t.Cleanup(func() { exec.Command("incus", "image", "delete", alias).Run() }) //nolint:errcheck

	// An image of our own (published from a replica), so deleting it
	// touches nothing another test uses.
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": composeWeb(1)}).mustSucceed(t)
	mustIncus(t, "snapshot", "create", "--project", stack, "web-1", "img")
	mustIncus(t, "publish", "--project", stack, "web-1/img", "--alias", alias)
	withImage := func(image string) string {
		return fmt.Sprintf("services:\n  web:\n    image: %s\n    deploy:\n      replicas: 3\n", image)
	}
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": withImage(alias)}).mustSucceed(t)
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": withImage("busybox")}).mustSucceed(t)
	before := hashes(t, srv, stack)
	ids := instanceIDs(t, srv, stack)
	mustIncus(t, "image", "delete", alias)

	r := call(t, "stack.rollback", false, map[string]any{"name": stack})
	wantError(t, r, "not_found", "nothing was changed", "web")
	if len(r.Changes) != 0 {
		t.Errorf("the refused rollback reports changes: %s", r.Raw)
	}
	if got := instanceIDs(t, srv, stack); fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Errorf("the refused rollback touched instances: %v -> %v", ids, got)
	}
	if got := hashes(t, srv, stack); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Errorf("the refused rollback changed slots: %v -> %v", before, got)
	}
	placement(t, srv, stack) // all still Running
}
