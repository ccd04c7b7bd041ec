package scheduler

import (
	"slices"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// unlimited is the room of a member no limit bounds. It is large enough never
// to run out and small enough that sums over thousands of members cannot
// overflow.
const unlimited = 1 << 40

// Cluster is the scheduler's view of the members during one planning run.
// It is mutable: placements made for one service are seen by the next
// (instance counts for tie-breaks, reserved resources).
type Cluster struct {
	members   []model.Member // sorted by name, so index order is name order
	index     map[string]int
	instances []int   // instances per member, all stacks; tie-break load
	freeCPU   []int64 // remaining milli-CPUs for reservations (if CPUs > 0)
	freeMem   []int64 // remaining bytes for reservations (if MemoryBytes > 0)
}

// NewCluster indexes the state's members and counts the instances already on
// each. Member.CPUs and MemoryBytes are free capacity (model docs): only
// replicas this run places consume it, kept instances already did.
func NewCluster(state *model.ClusterState) *Cluster {
	c := &Cluster{index: map[string]int{}}
	if state == nil {
		return c
	}
	c.members = slices.Clone(state.Members)
	slices.SortStableFunc(c.members, func(a, b model.Member) int { return strings.Compare(a.Name, b.Name) })
	// Member names are unique in Incus; a damaged snapshot repeating one
	// keeps its first entry so indices and names stay one-to-one.
	c.members = slices.CompactFunc(c.members, func(a, b model.Member) bool { return a.Name == b.Name })
	c.instances = make([]int, len(c.members))
	c.freeCPU = make([]int64, len(c.members))
	c.freeMem = make([]int64, len(c.members))
	for i, m := range c.members {
		c.index[m.Name] = i
		c.freeCPU[i] = int64(m.CPUs) * 1000
		c.freeMem[i] = m.MemoryBytes
	}
	for _, inst := range state.Instances {
		if i, ok := c.index[inst.Member]; ok {
			c.instances[i]++
		}
	}
	return c
}

// Members returns the members sorted by name. Callers must not modify it.
func (c *Cluster) Members() []model.Member { return c.members }

// Release records that an instance will leave the member (deleted or moved),
// so later tie-breaks see the lighter load.
func (c *Cluster) Release(member string) {
	if i, ok := c.index[member]; ok && c.instances[i] > 0 {
		c.instances[i]--
	}
}

// Instances returns how many instances the member holds in this run's view.
func (c *Cluster) Instances(member string) int {
	if i, ok := c.index[member]; ok {
		return c.instances[i]
	}
	return 0
}
