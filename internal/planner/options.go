package planner

import "github.com/incus-fleet/incus-fleet/internal/model"

// Options tune one planning run.
type Options struct {
	// ForceRecreate replaces every selected instance even when unchanged.
	ForceRecreate bool
	// Services limits the run to these services; the others keep their
	// instances exactly as they are (not even orphans are deleted).
	Services []string
	// ImageFingerprints maps a service name to its resolved image
	// fingerprint; it may be empty (offline planning).
	ImageFingerprints map[string]string
	// MoveVolumes lets a slot whose volume lives on a member it cannot run
	// on now move there with its volume (copied with an explicit target);
	// without it such a slot stays put with a warning.
	MoveVolumes bool
	// PruneVolumes deletes the stack's volumes no slot uses any more.
	PruneVolumes bool
	// FailoverSharedVolumes re-creates elsewhere, at once, a slot whose
	// member is offline while it mounts a volume on a shared pool; without
	// it the slot waits (fencing.go).
	FailoverSharedVolumes bool
}

// Result carries what the caller should report besides the plan.
type Result struct {
	// Warnings, in a deterministic order (damaged records, then by service).
	Warnings []string
}

// ReasonDuplicateSlot is model.ReasonDuplicateSlot, kept for callers.
const ReasonDuplicateSlot = model.ReasonDuplicateSlot
