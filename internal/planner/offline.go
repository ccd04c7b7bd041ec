package planner

import (
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/scheduler"
)

// Instances on an Offline member can be neither stopped nor deleted: Incus
// forwards both to the member, and the call fails until it is back. A plan
// that deleted them would fail on every run while the member is away (and
// `stack watch` would never converge), so such instances are left alone
// with a warning instead. Their slots are still re-created elsewhere; once
// the member is back, the next run sees two instances for the slot and
// removes one as a duplicate.

// unreachable reports whether an instance's member is Offline.
func unreachable(c current, cl *scheduler.Cluster) bool { return cl.Offline(c.member) }

// leftAlone is the warning for an instance the plan would delete but cannot.
func leftAlone(service string, c current, reason string) string {
	return fmt.Sprintf("instance %s (%s slot %d) on offline member %s should be deleted (%s) but cannot be while %s is offline; it is left in place and a later run deletes it once %s is back",
		c.name, service, c.slot, c.member, reason, c.member, c.member)
}
