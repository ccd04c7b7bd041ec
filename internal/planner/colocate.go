package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/scheduler"
)

// pin is the member a service is kept on because it shares a volume on a
// local pool with other services; why names them, for errors.
type pin struct{ member, why string }

// shareGroup is a set of services linked by volumes on local pools that
// they mount together (transitively: a+b share x, b+c share y).
type shareGroup struct {
	services []string // name order
	volumes  []string // name order
}

// sharedLocal lists the stack's volumes one member holds (local pool,
// known) that several services mount, in name order.
func (vi *volumeIndex) sharedLocal() []*model.Volume {
	var out []*model.Volume
	for i := range vi.stack.Volumes {
		v := &vi.stack.Volumes[i]
		if pool := vi.pool(v); pool != "" && vi.local(pool) && len(vi.stack.VolumeUsers(v.Name)) > 1 {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b *model.Volume) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// checkShared refuses a volume on a local pool shared with a global
// service: a global service runs on every member, and only one holds the
// volume, so no co-location exists.
func (vi *volumeIndex) checkShared() error {
	for _, v := range vi.sharedLocal() {
		users := vi.stack.VolumeUsers(v.Name)
		slices.Sort(users)
		for _, u := range users {
			if vi.stack.Service(u).Deploy.Mode == model.ModeGlobal {
				pool := vi.pool(v)
				return &SpecError{Err: fmt.Errorf("volume %q is mounted by services %s, but pool %q (%s) is local to each member and %s is global (one instance on every member), so they could not all reach it; "+
					"put it on a pool every member reaches (%s, via x-incus.pool) or give each service its own volume",
					v.Name, strings.Join(users, ", "), pool, vi.drivers[pool], u, strings.Join(sharedDrivers, ", "))}
			}
		}
	}
	return nil
}

// shareGroups joins the services that share volumes on local pools into
// groups, in the order of their first service's name.
func (vi *volumeIndex) shareGroups() []shareGroup {
	group := map[string]int{} // service → index into groups
	var groups []shareGroup
	for _, v := range vi.sharedLocal() {
		users := vi.stack.VolumeUsers(v.Name)
		into := -1
		for _, u := range users {
			if g, ok := group[u]; ok && into < 0 {
				into = g
			}
		}
		if into < 0 {
			groups = append(groups, shareGroup{})
			into = len(groups) - 1
		}
		groups[into].volumes = append(groups[into].volumes, v.Name)
		for _, u := range users {
			g, ok := group[u]
			switch {
			case !ok:
				group[u] = into
				groups[into].services = append(groups[into].services, u)
			case g != into: // a second group joins this one
				for _, s := range groups[g].services {
					group[s] = into
				}
				groups[into].services = append(groups[into].services, groups[g].services...)
				groups[into].volumes = append(groups[into].volumes, groups[g].volumes...)
				groups[g] = shareGroup{}
			}
		}
	}
	out := groups[:0]
	for _, g := range groups {
		if len(g.services) > 0 {
			slices.Sort(g.services)
			slices.Sort(g.volumes)
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b shareGroup) int { return strings.Compare(a.services[0], b.services[0]) })
	return out
}

// colocate picks, for every group of services sharing volumes on local
// pools, the one member they all run on, and returns the pins with one
// warning per group. The member is, in order: one already holding a
// group volume, then the one running most of the group's instances (fewest
// moves), then the least loaded, then name order; it must be eligible for
// every service of the group. When no member is, the error names the
// services, the volumes and each service's constraints. A group whose
// volume already lives on a member some service cannot use is not pinned:
// the sticky placement then keeps each slot with the data, or warns.
func (vi *volumeIndex) colocate(cl *scheduler.Cluster, cur map[string][]current) (map[string]pin, []string, error) {
	pins := map[string]pin{}
	var warnings []string
	for _, g := range vi.shareGroups() {
		eligible := make([]*scheduler.Service, 0, len(g.services))
		for _, name := range g.services {
			s, err := cl.Service(vi.stack.Service(name))
			if err != nil {
				return nil, nil, &SpecError{name, err}
			}
			eligible = append(eligible, s)
		}
		all := func(member string) bool {
			for _, s := range eligible {
				if !s.Eligible(member) {
					return false
				}
			}
			return true
		}
		held, blocked := vi.groupHome(g)
		if blocked {
			continue
		}
		var cands []string
		for _, m := range cl.Members() {
			if all(m.Name) {
				cands = append(cands, m.Name)
			}
		}
		what := fmt.Sprintf("services %s share volume%s %s on %s", strings.Join(g.services, ", "), plural(len(g.volumes)), strings.Join(g.volumes, ", "), vi.poolList(g))
		if len(cands) == 0 {
			if someoneStuck(eligible, cl) {
				continue // a service runs nowhere anyway: its own error says why
			}
			return nil, nil, &SpecError{Err: fmt.Errorf("%s, which one member holds, so they must run on one member, but no member is eligible for all of them: %s; "+
				"relax the constraints so one member satisfies them all, put the volume on a pool every member reaches (%s, via x-incus.pool), or give each service its own volume",
				what, vi.eligibility(g, eligible, cl), strings.Join(sharedDrivers, ", "))}
		}
		member := held
		switch {
		case member == "":
			member = pickHome(cands, g.services, cur, cl)
		case !slices.Contains(cands, member):
			continue // the data stays where it is: sticky placement keeps or warns per slot
		}
		for _, name := range g.services {
			pins[name] = pin{member: member, why: what}
		}
		warnings = append(warnings, fmt.Sprintf("%s, which one member holds: they are placed together on member %s; "+
			"to spread them, put the volume on a pool every member reaches (%s, via x-incus.pool) or give each service its own volume",
			what, member, strings.Join(sharedDrivers, ", ")))
	}
	return pins, warnings, nil
}

// groupHome is the member already holding the group's volumes ("" when
// none exists yet); blocked is true when they live on different members,
// which a pin cannot satisfy (the sticky placement handles each slot).
func (vi *volumeIndex) groupHome(g shareGroup) (string, bool) {
	home := ""
	for _, name := range g.volumes {
		v := vi.stack.Volume(name)
		for _, m := range vi.locate(vi.stack.VolumeName(name, nil, 0, ""), vi.pool(v)) {
			if home != "" && home != m {
				return "", true
			}
			home = m
		}
	}
	return home, false
}

// pickHome chooses among eligible members: most current instances of the
// group, then fewest instances in all, then name order (cands is sorted).
func pickHome(cands, services []string, cur map[string][]current, cl *scheduler.Cluster) string {
	running := map[string]int{}
	for _, s := range services {
		for _, c := range cur[s] {
			running[c.member]++
		}
	}
	best := cands[0]
	for _, m := range cands[1:] {
		if running[m] > running[best] || running[m] == running[best] && cl.Instances(m) < cl.Instances(best) {
			best = m
		}
	}
	return best
}

// someoneStuck reports whether a service of the group has no eligible
// member at all: placement then fails for that service with its reasons.
func someoneStuck(services []*scheduler.Service, cl *scheduler.Cluster) bool {
	for _, s := range services {
		if !slices.ContainsFunc(cl.Members(), func(m model.Member) bool { return s.Eligible(m.Name) }) {
			return true
		}
	}
	return false
}

// eligibility describes, per service, its constraints and the members they
// allow, so the user sees which constraints conflict.
func (vi *volumeIndex) eligibility(g shareGroup, services []*scheduler.Service, cl *scheduler.Cluster) string {
	parts := make([]string, len(g.services))
	for i, name := range g.services {
		cons := "no constraints"
		if c := vi.stack.Service(name).Deploy.Placement.Constraints; len(c) > 0 {
			cons = "constraints " + strings.Join(c, ", ")
		}
		var ok []string
		for _, m := range cl.Members() {
			if services[i].Eligible(m.Name) {
				ok = append(ok, m.Name)
			}
		}
		parts[i] = fmt.Sprintf("%s (%s) can run on %s", name, cons, strings.Join(ok, ", "))
	}
	return strings.Join(parts, "; ")
}

// poolList names the group's volumes' pools with their drivers.
func (vi *volumeIndex) poolList(g shareGroup) string {
	var pools []string
	for _, name := range g.volumes {
		pool := vi.pool(vi.stack.Volume(name))
		pools = append(pools, fmt.Sprintf("local pool %s (%s)", pool, orDefault(vi.drivers[pool], "driver unknown")))
	}
	slices.Sort(pools)
	return strings.Join(slices.Compact(pools), ", ")
}

// plural is "s" for more than one.
func plural(n int) string {
	if n > 1 {
		return "s"
	}
	return ""
}
