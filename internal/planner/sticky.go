package planner

import (
	"fmt"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// sticky is a slot placed on the member its volume lives on; reason is set
// when an instance elsewhere moves there.
type sticky struct{ member, volume, reason string }

// movesHome sends a slot whose instance runs on one member while its
// volume lives on another eligible member (an external volume attached
// for the first time) to that member.
func (p *servicePlan) movesHome(w current) bool {
	if p.vols == nil {
		return false
	}
	home, volume := p.vols.home(p.svc, w.slot, w.member, p.sched.Eligible)
	if home == "" || home == w.member || !p.sched.Eligible(home) {
		return false
	}
	p.cl.Release(w.member)
	p.sticky[w.slot] = sticky{home, volume, "volume " + volume + " lives on " + home}
	p.pending = append(p.pending, pending{slot: w.slot, old: &w})
	return true
}

// holdBack applies sticky placement to a slot of a replicated service
// whose current instance (old, nil when missing) cannot stay where it is.
// A volume on a local pool lives on one member: while that member is
// eligible, the slot goes there; when it is not, the slot is moved only on
// request (move_volumes), and otherwise left alone (its instance kept, or
// the slot left down) with a loud warning, never re-created empty elsewhere.
// It reports true when the slot must not be placed by the scheduler at all.
func (p *servicePlan) holdBack(slot int, old *current) bool {
	if p.vols == nil {
		return false
	}
	if p.fenced(slot, old) { // fencing.go
		return true
	}
	prefer := ""
	if old != nil {
		prefer = old.member
	}
	home, volume := p.vols.home(p.svc, slot, prefer, p.sched.Eligible)
	switch {
	case home == "":
		return false
	case p.sched.Eligible(home) && old != nil && old.member == home:
		p.stay(*old) // only a cap says otherwise; the data decides
		return true
	case p.sched.Eligible(home):
		p.sticky[slot] = sticky{member: home, volume: volume}
		return false
	case p.vols.opts.MoveVolumes && !p.cl.Offline(home):
		p.moves[slot] = home
		return false
	}
	p.notes = append(p.notes, p.vols.stuckWarning(p.svc.Name, slot, volume, home, !p.cl.Offline(home)))
	if old != nil {
		p.keeps = append(p.keeps, keepStep(p.svc.Name, *old, p.svc))
	}
	return true
}

// placeSticky takes the pending slots tied to a member out of the
// scheduler's hands and puts them there; it returns the others.
func (p *servicePlan) placeSticky(pend []pending) []pending {
	rest := pend[:0]
	for _, pd := range pend {
		st, ok := p.sticky[pd.slot]
		if !ok {
			rest = append(rest, pd)
			continue
		}
		p.sched.Add(st.member)
		reason := model.ReasonMissing
		if pd.old != nil {
			why := model.ReasonMemberLost
			if st.reason != "" {
				why = st.reason
			}
			step := p.replace(pd.slot, st.member, why, pd.old)
			step.Sticky = st.volume
			p.replaces = append(p.replaces, step)
			continue
		}
		p.creates = append(p.creates, model.Step{
			Op: model.OpCreate, Service: p.svc.Name, Slot: pd.slot, Instance: p.name(pd.slot), Member: st.member,
			Reason: reason, HostPorts: p.ports(pd.slot), Sticky: st.volume,
		})
	}
	return rest
}

// volumeOrder decides whether the service's updates must run stop-first:
// a volume on a local pool lives on one member, so a start-first update
// could not move the new instance elsewhere, and two instances on one
// member may not share a single-writer volume. "" = no constraint.
func (p *servicePlan) volumeOrder() string {
	if p.vols == nil {
		return ""
	}
	for _, v := range p.vols.localMounts(p.svc) {
		pool := p.vols.pool(v)
		if !v.Shared {
			return fmt.Sprintf("volume %s on the local pool %s has a single writer (declare x-incus: {shared: true} on the volume if the service allows two writers)", v.Name, pool)
		}
		if publishesPorts(p.svc) {
			return fmt.Sprintf("volume %s on the local pool %s keeps each slot on its member, where the old instance holds the published ports", v.Name, pool)
		}
	}
	return ""
}

// stopFirstWarning is the one warning for a service whose start-first
// update runs stop-first because of its volumes.
func (p *servicePlan) stopFirstWarning() []string {
	if p.stopFirst == "" || len(p.replaces) == 0 || p.svc.Deploy.UpdateConfig.Order != model.OrderStartFirst {
		return nil
	}
	return []string{fmt.Sprintf("service %s: update_config.order start-first is not possible: %s; this update runs stop-first (the plan shows the order of each slot)",
		p.svc.Name, strings.TrimSpace(p.stopFirst))}
}
