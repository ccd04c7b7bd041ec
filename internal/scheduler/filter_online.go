package scheduler

import (
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// onlineFilter admits only Online members: Evacuated ones are being
// drained, Offline and Blocked ones cannot start anything.
type onlineFilter struct{}

func (onlineFilter) check(m *model.Member) bool { return m.Online() }

func (onlineFilter) explain(c *Cluster, rejected []int) string {
	return fmt.Sprintf("%s not online (%s)", plural(len(rejected), "member"),
		memberNames(c, rejected, func(m *model.Member) string {
			if m.Status == "" {
				return "unknown status"
			}
			return m.Status
		}))
}
