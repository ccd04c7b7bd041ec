package model

import "strconv"

// Config keys the fleet writes on every instance it owns. Ownership and slot
// live in Incus itself so status and planning never guess from names.
const (
	KeyStack   = "user.fleet.stack"
	KeyService = "user.fleet.service"
	KeySlot    = "user.fleet.slot"
	KeyHash    = "user.fleet.hash" // service config hash + image fingerprint
	// KeyGate records whether a replacement passed its update gate
	// (healthcheck and monitor window): GatePending from its create until
	// the gate passes. A run killed in between leaves it pending, and the
	// next run must not prefer that copy over a running one that passed.
	// Instances without the key (first deploys, scale-ups) count as passed.
	KeyGate = "user.fleet.gate"
	// KeyLabelPrefix prefixes Compose labels stored on instances.
	KeyLabelPrefix = "user.label."
)

// Gate values.
const (
	GatePending = "pending"
	GatePassed  = "passed"
)

// GatePending reports a replacement that has not (yet) passed its gate.
func (i Instance) GatePending() bool { return i.Config[KeyGate] == GatePending }

// Owned reports the stack, service and slot recorded on an instance; ok is
// false when the instance is not one of ours (or the record is damaged).
func (i Instance) Owned() (stack, service string, slot int, ok bool) {
	stack, service = i.Config[KeyStack], i.Config[KeyService]
	slot, err := strconv.Atoi(i.Config[KeySlot])
	if stack == "" || service == "" || err != nil || slot < 1 {
		return "", "", 0, false
	}
	return stack, service, slot, true
}

// SlotHash is the hash recorded on an instance: the service config hash and
// the resolved image fingerprint, so a moved image tag is an update too.
func SlotHash(serviceHash, imageFingerprint string) string {
	if imageFingerprint == "" {
		return serviceHash
	}
	return serviceHash + "@" + imageFingerprint
}

// Continuous health, recorded by `stack watch` on each transition (never on
// every probe): KeyHealth holds starting, healthy or unhealthy, and
// KeyHealthOutput the output of the probe that caused it (bounded). An
// unhealthy replica is out of the names until its check passes again.
const (
	KeyHealth       = "user.fleet.health"
	KeyHealthOutput = "user.fleet.health.output"
)

// Unhealthy reports a replica the watch found unhealthy.
func (i Instance) Unhealthy() bool { return i.Config[KeyHealth] == "unhealthy" }
