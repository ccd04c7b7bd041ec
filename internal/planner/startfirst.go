package planner

import (
	"fmt"
	"sort"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// alternateSuffix names the second instance a slot has while a start-first
// update runs both: web-1 and web-1-b take turns. A letter can never collide
// with a numeric slot of any service.
const alternateSuffix = "-b"

// alternateName is the name a slot's new instance takes when its old one
// must keep running for a while: the primary name unless the old instance
// already holds it.
func alternateName(primary, old string) string {
	if old == primary {
		return primary + alternateSuffix
	}
	return primary
}

// overlapReplaces prepares the replaces whose old and new instances run at
// the same time: start-first updates, and moves off a lost member (whose old
// instance may not be deletable until the member returns). Their new
// instance takes the alternate name. A start-first replace in place whose
// published port would clash with the old instance moves to another member
// that fits; when none does, that slot falls back to stop-first, with a
// warning, rather than failing the update.
func (p *servicePlan) overlapReplaces() []string {
	var warnings []string
	// Volumes on a local pool may force stop-first (sticky.go).
	startFirst := p.svc.Deploy.UpdateConfig.Order == model.OrderStartFirst && p.stopFirst == ""
	// Old instances of moved slots leave their member once the update is
	// done; counting that keeps the final spread even.
	leaving := map[string]int{}
	for _, s := range p.replaces {
		if s.Op == model.OpUpdate {
			continue
		}
		if startFirst && s.Member == s.OldMember && publishesPorts(p.svc) {
			leaving[s.OldMember]++
		}
	}
	for i := range p.replaces {
		s := &p.replaces[i]
		if s.Op == model.OpUpdate { // a gate re-run in place: no second instance
			continue
		}
		moved := s.Member != s.OldMember
		switch {
		case moved && (startFirst || s.Reason == model.ReasonMemberLost) && p.stopFirst == "":
			s.Order = model.OrderStartFirst
		case !startFirst:
			continue
		case !publishesPorts(p.svc):
			s.Order = model.OrderStartFirst
		default:
			member, ok := p.otherMember(s.OldMember, leaving)
			if !ok {
				s.Order = model.OrderStopFirst
				warnings = append(warnings, fmt.Sprintf(
					"service %s slot %d: start-first needs another member for its published ports while %s keeps them, and none fits; this slot updates stop-first",
					p.svc.Name, s.Slot, s.OldInstance))
				continue
			}
			s.Member, s.Order = member, model.OrderStartFirst
			p.sched.Add(member)
		}
		// An unreadable instance (occupied.go) may hold the alternate too.
		s.Instance = freeName(alternateName(p.name(s.Slot), s.OldInstance), p.occupied)
	}
	return warnings
}

// otherMember picks the member other than old that fits one more replica
// and will hold the fewest of this service once the update is done; ties go
// to the next member after old in name order, so slots rotate (1→2, 2→3,
// 3→1) instead of piling onto the first name.
func (p *servicePlan) otherMember(old string, leaving map[string]int) (string, bool) {
	members := p.sched.EligibleMembers()
	sort.Strings(members)
	start := sort.SearchStrings(members, old)
	best, bestCount, found := "", 0, false
	for k := 1; k <= len(members); k++ {
		m := members[(start+k)%len(members)]
		if m == old || !p.sched.Fits(m) {
			continue
		}
		if n := p.sched.Count(m) - leaving[m]; !found || n < bestCount {
			best, bestCount, found = m, n, true
		}
	}
	return best, found
}

func publishesPorts(svc *model.Service) bool {
	for _, port := range svc.Ports {
		if port.PublishedStart > 0 {
			return true
		}
	}
	return false
}
