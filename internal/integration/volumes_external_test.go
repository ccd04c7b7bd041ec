package integration

import (
	"fmt"
	"strings"
	"testing"
)

// TestVolumesExternalAndShared: an external volume (name:) is attached as
// it is, its slot moves to the member that holds it, and stack.absent with
// volumes never deletes it; a volume declared shareable (x-incus: {shared:
// true}) keeps its service's start-first updates, on the same member, with
// the data.
func TestVolumesExternalAndShared(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	testbed(t)
	const stack = "it-volumes-ext"
	// Cleanups run last first: the stack with its volumes, then the
	// external volume (not the stack's to delete), then the project.
	cleanup(t, stack)
	t.Cleanup(func() {
		_, _ = incusCLI(t, "storage", "volume", "delete", "local", "legacy", "--project", stack, "--target", "node3")
	})
	removeWithVolumes(t, stack)
	compose := func(v int) string {
		return fmt.Sprintf(`
services:
  db:
    image: busybox
    environment: {V: "%d"}
    volumes: [old:/old]
  cache:
    image: busybox
    environment: {V: "%d"}
    volumes: [cdata:/c]
    deploy:
      update_config: {order: start-first, monitor: 100ms}
volumes:
  old: {external: true, name: legacy}
  cdata:
    x-incus: {shared: true}
`, v, v)
	}
	// The project exists after a first deploy; the volume is made by hand.
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": "services:\n  db: {image: busybox}\n"}).mustSucceed(t)
	mustIncus(t, "storage", "volume", "create", "local", "legacy", "--project", stack, "--target", "node3")

	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose(1)}).mustSucceed(t)
	insts, _ := dbPlacement(t, stack)
	if insts["db-1"] != "node3/Running" {
		t.Fatalf("db-1 should run on node3, where the external volume is: %v\n%s", insts, stepsOf(t, r))
	}
	if dev := mustIncus(t, "config", "device", "get", "db-1", "volume-old", "source", "--project", stack); strings.TrimSpace(dev) != "legacy" {
		t.Errorf("the external volume is not attached: source %q", dev)
	}
	if cfg := customVolumes(t, stack)["legacy"][0].Config; cfg["user.fleet.stack"] != "" {
		t.Errorf("the external volume was changed: %v", cfg)
	}
	member := strings.Split(insts["cache-1"], "/")[0]
	inInstance(t, stack, "cache-1", "echo c > /c/f")

	r = call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose(2)}).mustSucceed(t)
	got := stepsOf(t, r)
	if !strings.Contains(got, "replace cache-1-b@"+member+" config changed order=start-first") {
		t.Errorf("cache (shared volume) should update start-first on %s:\n%s", member, got)
	}
	if !strings.Contains(got, "replace db-1@node3 config changed order=stop-first") {
		t.Errorf("db (single-writer local volume) should update stop-first:\n%s", got)
	}
	if out := inInstance(t, stack, "cache-1-b", "cat /c/f"); out != "c" {
		t.Errorf("after the start-first update cache has %q", out)
	}
	call(t, "stack.absent", false, map[string]any{"name": stack, "volumes": true}).mustSucceed(t)
	if len(customVolumes(t, stack)["legacy"]) != 1 {
		t.Error("stack.absent with volumes deleted the external volume")
	}
}
