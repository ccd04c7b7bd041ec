package app

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// drainFleetReplicas deletes the stack replicas an evacuation left on a
// member. Incus stops (rather than moves) instances whose devices cannot
// migrate (proxy devices, NICs on a per-member bridge, local volumes), and
// refuses to remove a member that still holds any instance. A replica is
// the stack's to re-create elsewhere (the next apply or `stack watch`), as
// Swarm re-schedules the tasks of a removed node; anything that is not a
// replica in its stack's own project is never touched and is named in the
// error instead, so nothing foreign is lost. It returns the deleted names.
func drainFleetReplicas(ctx context.Context, c *incus.Client, member string) ([]string, error) {
	st, err := c.ReadState(ctx)
	if err != nil {
		return nil, err
	}
	var deleted, foreign []string
	for _, in := range st.Instances {
		if in.Member != member {
			continue
		}
		stack := in.Config[model.KeyStack]
		slot, _ := strconv.Atoi(in.Config[model.KeySlot])
		if stack == "" || stack != in.Project || slot <= 0 {
			foreign = append(foreign, in.Project+"/"+in.Name)
			continue
		}
		owner := incus.Owner{Stack: stack, Service: in.Config[model.KeyService], Slot: slot}
		if err := c.StopAndDeleteOwned(ctx, owner, in.Name); err != nil {
			return deleted, err
		}
		deleted = append(deleted, in.Project+"/"+in.Name)
	}
	if len(foreign) > 0 {
		slices.Sort(foreign)
		return deleted, fmt.Errorf("member %s still holds instances that are not incus-fleet replicas: %s; move or delete them, or set force: %w",
			member, strings.Join(foreign, ", "), incus.ErrConflict)
	}
	return deleted, nil
}
