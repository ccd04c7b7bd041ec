package scheduler

import (
	"github.com/incus-fleet/incus-fleet/internal/constraint"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Service schedules the replicas of one service. Static filters run once
// when it is created; after that each question is a slice lookup, which is
// what keeps 1,000 members × 10,000 replicas fast.
type Service struct {
	c       *Cluster
	name    string
	filters []filter
	limits  []limit
	res     resourcesLimit
	reject  []int // per member: index of the first filter rejecting it, -1 = eligible
	count   []int // replicas of this service per member (existing + placed)
	spread  []constraint.Key
}

// Service prepares scheduling for svc: parses its constraints and spread
// preferences and runs the static filters over every member.
func (c *Cluster) Service(svc *model.Service) (*Service, error) {
	cons, err := constraint.Parse(svc.Deploy.Placement.Constraints)
	if err != nil {
		return nil, err
	}
	spread, err := spreadKeys(svc.Deploy.Placement.Spread)
	if err != nil {
		return nil, err
	}
	cf := make([]constraintFilter, len(cons))
	for i, k := range cons {
		cf[i] = constraintFilter{k}
	}
	s := &Service{
		c:       c,
		name:    svc.Name,
		filters: staticFilters(cf),
		res: resourcesLimit{
			cpu: milliCPUs(svc.Deploy.Resources.ReserveCPUs),
			mem: max(svc.Deploy.Resources.ReserveMemoryBytes, 0),
		},
		reject: make([]int, len(c.members)),
		count:  make([]int, len(c.members)),
		spread: spread,
	}
	if n := svc.Deploy.Placement.MaxReplicasPerNode; n > 0 {
		s.limits = append(s.limits, maxReplicasLimit{n})
	}
	if pl, ok := newPortLimit(svc); ok {
		s.limits = append(s.limits, pl)
	}
	if s.res.cpu > 0 || s.res.mem > 0 {
		s.limits = append(s.limits, s.res)
	}
	for i := range c.members {
		s.reject[i] = -1
		for f, flt := range s.filters {
			if !flt.check(&c.members[i]) {
				s.reject[i] = f
				break
			}
		}
	}
	return s, nil
}

func (s *Service) lookup(member string) (int, bool) {
	i, ok := s.c.index[member]
	return i, ok
}

// Eligible reports whether the member passes the static filters (online,
// constraints). Unknown members are not eligible.
func (s *Service) Eligible(member string) bool {
	i, ok := s.lookup(member)
	return ok && s.reject[i] < 0
}

// Fits reports whether an existing replica on the member may stay: the
// member is eligible and the per-member caps still leave room for it.
// Reservations are not checked, the replica already holds them. Call Add
// for each replica that stays, in a stable order, so the caps count it.
func (s *Service) Fits(member string) bool {
	i, ok := s.lookup(member)
	if !ok || s.reject[i] >= 0 {
		return false
	}
	for _, l := range s.limits {
		if l.bindsExisting() && l.room(s, i) == 0 {
			return false
		}
	}
	return true
}

// Add records an existing replica that stays on the member. It counts for
// the per-member caps and for spreading.
func (s *Service) Add(member string) {
	if i, ok := s.lookup(member); ok {
		s.count[i]++
	}
}

// Count returns the replicas of this service on the member so far.
func (s *Service) Count(member string) int {
	if i, ok := s.lookup(member); ok {
		return s.count[i]
	}
	return 0
}

// room is how many more replicas member i can take under every limit.
func (s *Service) room(i int) int {
	r := unlimited
	for _, l := range s.limits {
		r = min(r, l.room(s, i))
	}
	return r
}

// commit places one new replica on member i.
func (s *Service) commit(i int) {
	s.count[i]++
	s.c.instances[i]++
	s.c.freeCPU[i] -= s.res.cpu
	s.c.freeMem[i] -= s.res.mem
}

// Reasons explains, one line per filter or limit, why members cannot take
// a replica now. Each member is charged to the first filter or limit that
// turns it away, in pipeline order.
func (s *Service) Reasons() []string {
	if len(s.c.members) == 0 {
		return []string{"the cluster has no members"}
	}
	rejected := make([][]int, len(s.filters))
	reached := make([][]int, len(s.limits))
	for i := range s.c.members {
		if f := s.reject[i]; f >= 0 {
			rejected[f] = append(rejected[f], i)
			continue
		}
		for l, lim := range s.limits {
			if lim.room(s, i) == 0 {
				reached[l] = append(reached[l], i)
				break
			}
		}
	}
	var out []string
	for f, idx := range rejected {
		if len(idx) > 0 {
			out = append(out, s.filters[f].explain(s.c, idx))
		}
	}
	for l, idx := range reached {
		if len(idx) > 0 {
			out = append(out, s.limits[l].explain(s.c, idx))
		}
	}
	return out
}
