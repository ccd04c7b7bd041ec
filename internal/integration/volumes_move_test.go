package integration

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// TestVolumesMoveNeverTrustsASameNamedCopy is issue 23's scenario: db runs
// on node1 with its data in data-1; an empty data-1 is made on node2 (what
// an interrupted copy leaves behind); the constraint changes to node2 and
// the stack is applied with move_volumes. The source must survive: the
// apply is refused (conflict, naming the volume and the fix), db-1 keeps
// running with its data. MoveVolume itself, asked directly, refuses too.
// Once the empty volume is deleted, the move runs and the data arrives,
// with the mark of a finished copy and no temporary copy left.
func TestVolumesMoveNeverTrustsASameNamedCopy(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-volumes-move"
	removeWithVolumes(t, stack)
	present := func(on string, extra map[string]any) response {
		t.Helper()
		params := map[string]any{"name": stack, "compose_yaml": crashVolumesCompose(1, on)}
		for k, v := range extra {
			params[k] = v
		}
		return call(t, "stack.present", false, params)
	}
	present("node1", nil).mustSucceed(t)
	inInstance(t, stack, "db-1", "echo precious > /data/f")
	mustIncus(t, "storage", "volume", "create", "local", "data-1", "--target", "node2", "--project", stack)

	r := present("node2", map[string]any{"move_volumes": true})
	if r.Error == nil || r.Error.Code != protocol.CodeConflict || !strings.Contains(r.Error.Message, "not a finished copy") ||
		!strings.Contains(r.Error.Message, "incus storage volume delete local data-1 --target node2 --project "+stack) {
		t.Errorf("the move onto a same-named volume should be refused as a conflict naming the fix: %s", r.Raw)
	}
	if insts, vol := dbPlacement(t, stack); insts["db-1"] != "node1/Running" || len(vol) != 2 {
		t.Fatalf("db-1 should still run on node1 and both copies exist: %v %v", insts, vol)
	}
	if got := inInstance(t, stack, "db-1", "cat /data/f"); got != "precious" {
		t.Fatalf("db-1 has %q after the refused move", got)
	}

	// The client's own guard, without the planner's: the source stays.
	err := srv.c.MoveVolume(context.Background(), stack, "local", "data-1", "node1", "node2")
	if !errors.Is(err, incus.ErrConflict) {
		t.Errorf("MoveVolume onto an unmarked same-named volume: %v, want a conflict", err)
	}
	if _, vol := dbPlacement(t, stack); len(vol) != 2 {
		t.Fatalf("MoveVolume deleted a copy: %v", vol)
	}

	mustIncus(t, "storage", "volume", "delete", "local", "data-1", "--target", "node2", "--project", stack)
	r = present("node2", map[string]any{"move_volumes": true}).mustSucceed(t)
	insts, vol := dbPlacement(t, stack)
	if insts["db-1"] != "node2/Running" || len(vol) != 1 || vol[0] != "node2" {
		t.Fatalf("db-1 and its only copy should be on node2: %v %v\n%s", insts, vol, stepsOf(t, r))
	}
	if got := inInstance(t, stack, "db-1", "cat /data/f"); got != "precious" {
		t.Errorf("after the move db-1 has %q", got)
	}
	vols := customVolumes(t, stack)
	if len(vols) != 1 || vols["data-1"][0].Config[model.KeyMovedFrom] != "node1" || vols["data-1"][0].Config[model.KeySlot] != "1" {
		t.Errorf("after the move the volumes are %+v, want data-1 alone, marked as moved from node1, with its ownership keys", vols)
	}
}
