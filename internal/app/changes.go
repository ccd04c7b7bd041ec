package app

import (
	"fmt"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// placement is how an instance appears in changes.
type placement struct {
	Service string `json:"service"`
	Slot    int    `json:"slot"`
	Member  string `json:"member"`
}

// planChanges turns every step that changes something into Salt's
// {"instance": {"old": ..., "new": ...}} shape.
func planChanges(plan model.Plan) map[string]protocol.Change {
	out := map[string]protocol.Change{}
	for _, s := range plan.Steps {
		switch s.Op {
		case model.OpCreate:
			out[s.Instance] = protocol.Change{New: placement{s.Service, s.Slot, s.Member}}
		case model.OpDelete:
			out[s.Instance] = protocol.Change{Old: placement{s.Service, s.Slot, s.Member}}
		case model.OpReplace, model.OpUpdate:
			oldMember := s.OldMember
			if oldMember == "" {
				oldMember = s.Member
			}
			out[s.Instance] = protocol.Change{Old: placement{s.Service, s.Slot, oldMember}, New: placement{s.Service, s.Slot, s.Member}}
		case model.OpVolumeCreate, model.OpVolumeMove, model.OpVolumeDelete:
			volumeChange(out, s) // volume_changes.go
		}
	}
	return out
}

// summarise counts the plan's steps per operation for the comment.
func summarise(plan model.Plan, test bool) string {
	counts := map[string]int{}
	for _, s := range plan.Steps {
		counts[s.Op]++
	}
	if !plan.Changes() {
		return fmt.Sprintf("stack %s is up to date (%d instances)", plan.Stack, counts[model.OpKeep])
	}
	verb := map[string]string{model.OpCreate: "created", model.OpReplace: "replaced", model.OpUpdate: "updated", model.OpDelete: "deleted", model.OpKeep: "kept"}
	if test {
		verb = map[string]string{model.OpCreate: "would create", model.OpReplace: "would replace", model.OpUpdate: "would update", model.OpDelete: "would delete", model.OpKeep: "would keep"}
	}
	addVolumeVerbs(verb, test) // volume_changes.go
	var parts []string
	for _, op := range []string{model.OpVolumeCreate, model.OpVolumeMove, model.OpCreate, model.OpReplace, model.OpUpdate, model.OpDelete, model.OpVolumeDelete, model.OpKeep} {
		if counts[op] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", verb[op], counts[op]))
		}
	}
	return fmt.Sprintf("stack %s: %s", plan.Stack, strings.Join(parts, ", "))
}
