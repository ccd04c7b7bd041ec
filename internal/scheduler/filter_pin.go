package scheduler

import (
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// pinFilter keeps a service on one member: the planner co-locates services
// that share a volume only one member can reach (a local pool). why names
// the services and the volume, so a refusal says which constraint met which.
type pinFilter struct {
	member string
	why    string
}

func (f pinFilter) check(m *model.Member) bool { return m.Name == f.member }

func (f pinFilter) explain(c *Cluster, rejected []int) string {
	return fmt.Sprintf("co-location on member %s (%s) excluded %d of %s", f.member, f.why, len(rejected), plural(len(c.members), "member"))
}

// Pin restricts the service to member, after its own filters: a member
// they already rejected stays charged to them, so the reasons still add up
// to the member count. why explains the pin in errors.
func (s *Service) Pin(member, why string) {
	s.filters = append(s.filters, pinFilter{member: member, why: why})
	f := len(s.filters) - 1
	for i := range s.c.members {
		if s.reject[i] < 0 && s.c.members[i].Name != member {
			s.reject[i] = f
		}
	}
}
