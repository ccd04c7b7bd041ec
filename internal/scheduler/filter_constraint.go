package scheduler

import (
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/constraint"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// constraintFilter is one placement constraint. One filter per constraint,
// so the error names the constraint that actually excluded members.
type constraintFilter struct {
	c constraint.Constraint
}

func (f *constraintFilter) check(m *model.Member) bool { return f.c.Match(*m) }

func (f *constraintFilter) explain(c *Cluster, rejected []int) string {
	return fmt.Sprintf("constraint %s excluded %d of %s", f.c, len(rejected), plural(len(c.members), "member"))
}
