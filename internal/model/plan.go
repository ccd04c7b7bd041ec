package model

// Plan operations.
const (
	OpCreate  = "create"
	OpKeep    = "keep"
	OpReplace = "replace"
	OpUpdate  = "update"
	OpDelete  = "delete"
	// Volume steps: custom storage volumes created, moved to another
	// member (Step.OldMember → Step.Member) or deleted. Volume and Pool
	// name the volume; Member is "" on a shared pool.
	OpVolumeCreate = "create-volume"
	OpVolumeMove   = "move-volume"
	OpVolumeDelete = "delete-volume"
)

// Step reasons.
const (
	ReasonMissing       = "missing"
	ReasonOrphan        = "orphan"
	ReasonScaleDown     = "scale down"
	ReasonConfigChanged = "config changed"
	ReasonImageChanged  = "image changed"
	ReasonForced        = "forced"
	ReasonMemberLost    = "member not eligible"
	ReasonNotRunning    = "not running"
	// ReasonDuplicateSlot marks the extra instances when several claim one
	// slot (a run killed mid-update leaves them); they go first.
	ReasonDuplicateSlot = "duplicate slot"
	// ReasonPrune marks a volume no slot uses any more, deleted on request.
	ReasonPrune = "prune"
	// ReasonStackAbsent marks what stack.absent removes.
	ReasonStackAbsent = "stack absent"
	// ReasonGatePending marks an up-to-date instance whose update gate
	// never passed (a run was killed during it): an update step re-runs the
	// gate on it in place.
	ReasonGatePending = "health gate not passed"
)

// Plan is the ordered list of steps that takes a stack to its desired state.
// Its JSON form is PROTOCOL.md's plan.
type Plan struct {
	Stack string `json:"stack"`
	Steps []Step `json:"steps"`
}

// Step is one planned operation on one slot of one service.
type Step struct {
	Op          string `json:"op"`
	Service     string `json:"service"`
	Slot        int    `json:"slot"`
	Instance    string `json:"instance"`
	Member      string `json:"member"`
	Reason      string `json:"reason,omitempty"`
	OldInstance string `json:"old_instance,omitempty"`
	OldMember   string `json:"old_member,omitempty"`
	Order       string `json:"order,omitempty"`
	Batch       int    `json:"batch,omitempty"`
	// HostPorts are the host ports this slot publishes (index-aligned with
	// Service.Ports; 0 = not published). Filled by the planner.
	HostPorts []int `json:"host_ports,omitempty"`
	// Volume and Pool name the custom volume of a volume step.
	Volume string `json:"volume,omitempty"`
	Pool   string `json:"pool,omitempty"`
	// Sticky names the volume that ties a slot to its member, when that
	// decided the placement.
	Sticky string `json:"sticky,omitempty"`
}

// IsVolumeOp reports whether the step acts on a storage volume.
func (s Step) IsVolumeOp() bool {
	return s.Op == OpVolumeCreate || s.Op == OpVolumeMove || s.Op == OpVolumeDelete
}

// Changes reports whether the plan does anything besides keeping.
func (p Plan) Changes() bool {
	for _, s := range p.Steps {
		if s.Op != OpKeep {
			return true
		}
	}
	return false
}
