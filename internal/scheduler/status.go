package scheduler

import "github.com/incus-fleet/incus-fleet/internal/model"

// Offline reports whether the member is known and Offline. Incus forwards
// every stop or delete of an instance to the member that holds it, so the
// planner must not plan either there until the member is back; members
// that are merely Evacuated or Blocked still answer.
func (c *Cluster) Offline(member string) bool {
	i, ok := c.index[member]
	return ok && c.members[i].Status == model.StatusOffline
}
