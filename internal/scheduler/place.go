package scheduler

// Place chooses members for n new replicas and commits them (counts,
// instance load, reservations), returning the members in placement order.
// When fewer than n fit it returns those that did and a
// *NoSuitableNodeError for the rest.
func (s *Service) Place(n int) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	root := s.buildTree()
	out := make([]string, 0, n)
	for len(out) < n && root.room > 0 {
		out = append(out, s.c.members[s.descend(root)].Name)
	}
	if len(out) < n {
		return out, &NoSuitableNodeError{Service: s.name, Replicas: n - len(out), Reasons: s.Reasons()}
	}
	return out, nil
}

// PlaceGlobal places one replica on every eligible member that has none yet
// (see Add), in name order, and commits them. Eligible members whose limits
// leave no room (in practice: reservations) get nothing; err then explains
// them, and the caller decides whether that is fatal (Swarm leaves such
// tasks pending).
func (s *Service) PlaceGlobal() (placed []string, err *NoSuitableNodeError) {
	var full []int
	for i := range s.c.members {
		if s.reject[i] >= 0 || s.count[i] > 0 {
			continue
		}
		if s.room(i) == 0 {
			full = append(full, i)
			continue
		}
		s.commit(i)
		placed = append(placed, s.c.members[i].Name)
	}
	if len(full) == 0 {
		return placed, nil
	}
	// Only the limits are relevant here: the filtered-out members are not
	// supposed to run the service at all.
	reached := make([][]int, len(s.limits))
	for _, i := range full {
		for l, lim := range s.limits {
			if lim.room(s, i) == 0 {
				reached[l] = append(reached[l], i)
				break
			}
		}
	}
	e := &NoSuitableNodeError{Service: s.name, Replicas: len(full)}
	for l, idx := range reached {
		if len(idx) > 0 {
			e.Reasons = append(e.Reasons, s.limits[l].explain(s.c, idx))
		}
	}
	return placed, e
}

// EligibleMembers returns the names of the members that pass the static
// filters, in name order.
func (s *Service) EligibleMembers() []string {
	var out []string
	for i, r := range s.reject {
		if r < 0 {
			out = append(out, s.c.members[i].Name)
		}
	}
	return out
}
