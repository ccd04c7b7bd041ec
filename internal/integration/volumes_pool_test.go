package integration

import (
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// TestVolumesPoolChangeRefused: db keeps its data in data-1 on the local
// pool; x-incus.pool then names another pool and the stack is applied
// with force_recreate. It is refused (conflict naming the volume, both
// pools and how to move), nothing changes and db-1 keeps its data. The
// copy the message names, done by hand, lets the next apply use the new
// pool with the data.
func TestVolumesPoolChangeRefused(t *testing.T) {
	testbed(t)
	const stack, pool = "it-volumes-pool", "fleet-vpool"
	sources := poolSources(t, pool, bedMembers...)
	dropPool(t, pool)
	t.Cleanup(func() { dropPool(t, pool) })
	removeWithVolumes(t, stack) // runs before the pool's cleanup
	call(t, "storage_pool.present", false, poolParams(pool, sources)).mustSucceed(t)
	compose := func(x string) string {
		return strings.Replace(crashVolumesCompose(1, "node1"), "  data: {}", "  data: {"+x+"}", 1)
	}
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose("")}).mustSucceed(t)
	inInstance(t, stack, "db-1", "echo precious > /data/f")

	moved := compose("x-incus: {pool: " + pool + "}")
	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": moved, "force_recreate": true, "move_volumes": true})
	if r.Error == nil || r.Error.Code != protocol.CodeConflict {
		t.Fatalf("a pool change of a volume holding data should be a conflict: %s", r.Raw)
	}
	hint := "incus storage volume copy local/data-1 " + pool + "/data-1 --target node1 --project " + stack
	for _, f := range []string{`volume "data"`, `pool "` + pool + `"`, `pool "local"`, hint} {
		if !strings.Contains(r.Error.Message, f) {
			t.Errorf("the refusal lacks %q: %s", f, r.Error.Message)
		}
	}
	if got := inInstance(t, stack, "db-1", "cat /data/f"); got != "precious" {
		t.Fatalf("db-1 has %q after the refused pool change", got)
	}
	if _, err := incusCLI(t, "query", "/1.0/storage-pools/"+pool+"/volumes/custom/data-1?project="+stack+"&target=node1"); err == nil {
		t.Errorf("an empty data-1 was created in %s", pool)
	}

	mustIncus(t, "stop", "db-1", "--project", stack)
	mustIncus(t, strings.Fields(strings.TrimPrefix(hint, "incus "))...)
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": moved, "force_recreate": true}).mustSucceed(t)
	if got := inInstance(t, stack, "db-1", "cat /data/f"); got != "precious" {
		t.Errorf("after the copy by hand db-1 has %q", got)
	}
}
