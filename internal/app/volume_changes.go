package app

import (
	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// volumeWhere is how a volume appears in changes.
type volumeWhere struct {
	Pool   string `json:"pool"`
	Member string `json:"member,omitempty"`
}

// volumeChange adds a volume step to Salt's changes, keyed "volume NAME".
func volumeChange(out map[string]protocol.Change, s model.Step) {
	key := "volume " + s.Volume
	switch s.Op {
	case model.OpVolumeCreate:
		out[key] = protocol.Change{New: volumeWhere{s.Pool, s.Member}}
	case model.OpVolumeMove:
		out[key] = protocol.Change{Old: volumeWhere{s.Pool, s.OldMember}, New: volumeWhere{s.Pool, s.Member}}
	case model.OpVolumeDelete:
		if s.Member != "" {
			key += " on " + s.Member
		}
		out[key] = protocol.Change{Old: volumeWhere{s.Pool, s.Member}}
	}
}

func addVolumeVerbs(verb map[string]string, test bool) {
	verb[model.OpVolumeCreate], verb[model.OpVolumeMove], verb[model.OpVolumeDelete] = "created volumes", "moved volumes", "deleted volumes"
	if test {
		verb[model.OpVolumeCreate], verb[model.OpVolumeMove], verb[model.OpVolumeDelete] = "would create volumes", "would move volumes", "would delete volumes"
	}
}

// planTarget is what a plan row acts on: the instance, or the volume.
func planTarget(s model.Step) string {
	if s.IsVolumeOp() {
		return "volume " + s.Volume
	}
	return s.Instance
}

// planReason adds to the reason what decided the step: the volume that
// keeps a slot on its member, and the update order used.
func planReason(s model.Step) string {
	r := s.Reason
	if s.Sticky != "" {
		r += " (sticky: volume " + s.Sticky + " lives here)"
	}
	if s.Order != "" {
		r += " [" + s.Order + "]"
	}
	return r
}
