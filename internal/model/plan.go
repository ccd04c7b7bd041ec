package model

// Plan operations.
const (
	OpCreate  = "create"
	OpKeep    = "keep"
	OpReplace = "replace"
	OpUpdate  = "update"
	OpDelete  = "delete"
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
