package app

import (
	"fmt"
	"strconv"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// absentVolumes plans what stack.absent does with the volumes in the
// stack's project: with deleteThem, a delete step for each volume the
// stack created (an external volume is never the stack's to delete);
// kept counts the volumes that stay, and with them the project.
func absentVolumes(state *model.ClusterState, stack string, deleteThem bool) (steps []model.Step, kept int) {
	for _, v := range state.Volumes {
		if v.Project != stack {
			continue
		}
		if !deleteThem || v.Config[model.KeyStack] != stack {
			kept++
			continue
		}
		slot, _ := strconv.Atoi(v.Config[model.KeySlot])
		steps = append(steps, model.Step{Op: model.OpVolumeDelete, Service: v.Config[model.KeyService], Slot: slot,
			Member: v.Member, Volume: v.Name, Pool: v.Pool, Reason: model.ReasonStackAbsent})
	}
	return steps, kept
}

func absentSummary(instances, deleted, kept int) string {
	s := fmt.Sprintf("%d instances", instances)
	if deleted > 0 {
		s += fmt.Sprintf(", %d volumes", deleted)
	}
	if kept > 0 {
		return s + fmt.Sprintf("; %d volumes and the project that holds them are kept", kept)
	}
	return s + " and its project"
}

// clearRecord empties the deployed specs of a stack whose project stays
// for its volumes: nothing of the stack runs any more.
func clearRecord(c *incus.Client, stack string) error {
	rec, err := c.ReadRecord(stack)
	if err != nil {
		return err
	}
	rec.Current, rec.Previous = "", ""
	return c.WriteRecord(stack, &rec)
}
