package scheduler

import "github.com/incus-fleet/incus-fleet/internal/model"

// filter decides once per service whether a member may hold a replica at
// all. Filters run in pipeline order; a member is charged to the first
// filter that rejects it, so the reasons add up to the member count.
type filter interface {
	check(m *model.Member) bool
	// explain describes the rejected members (indices into c.members).
	explain(c *Cluster, rejected []int) string
}

// limit bounds how many replicas of the service an eligible member can
// still take, given what is already there and what this run placed.
type limit interface {
	// room returns how many more replicas member i can take (>= 0; unlimited
	// when unbounded).
	room(s *Service, i int) int
	// bindsExisting reports whether a replica that already runs on the
	// member counts against the limit. Counts do; reservations do not,
	// because the running replica already holds its resources.
	bindsExisting() bool
	// explain describes the members this limit filled up.
	explain(c *Cluster, reached []int) string
}

// staticFilters builds the pipeline's first stage for a service.
func staticFilters(cons []constraintFilter) []filter {
	fs := make([]filter, 0, 1+len(cons))
	fs = append(fs, onlineFilter{})
	for i := range cons {
		fs = append(fs, &cons[i])
	}
	return fs
}

// memberNames lists up to max member names with a detail each, then "and N
// more", so a 1,000-member rejection stays one readable line.
func memberNames(c *Cluster, idx []int, detail func(m *model.Member) string) string {
	const max = 5
	s := ""
	for n, i := range idx {
		if n == max {
			s += ", and " + plural(len(idx)-max, "more member")
			break
		}
		if n > 0 {
			s += ", "
		}
		s += c.members[i].Name
		if detail != nil {
			s += ": " + detail(&c.members[i])
		}
	}
	return s
}
