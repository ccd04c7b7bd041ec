package planner

import (
	"fmt"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/scheduler"
)

// classifyGlobal is pass 1 for a global service: an instance stays when its
// member is still eligible and holds no lower slot of the service already;
// anything else is deleted (a global replica belongs to its member, it is
// never moved).
func (p *servicePlan) classifyGlobal(winners []current, cl *scheduler.Cluster) {
	claimed := map[string]bool{}
	for _, w := range winners {
		switch {
		case !p.sched.Eligible(w.member):
			p.remove(w, model.ReasonMemberLost, cl)
		case claimed[w.member] || !p.sched.Fits(w.member):
			p.remove(w, model.ReasonScaleDown, cl)
		default:
			claimed[w.member] = true
			p.stay(w)
		}
	}
}

// placeGlobal is pass 2: one new replica on every eligible member without
// one, numbered with the lowest slots no current instance of the service
// uses (not even one being deleted, so names never clash mid-plan).
// Members the reservations do not fit are skipped with a warning, as Swarm
// leaves such tasks pending.
func (p *servicePlan) placeGlobal() (warnings []string, err error) {
	members, nse := p.sched.PlaceGlobal()
	if nse != nil {
		warnings = append(warnings, nse.Error())
	}
	if len(p.keeps)+len(p.replaces)+len(members) == 0 {
		warnings = append(warnings, fmt.Sprintf("global service %s has no eligible member: %s",
			p.svc.Name, strings.Join(p.sched.Reasons(), "; ")))
	}
	used := map[int]bool{}
	for _, c := range p.existing {
		used[c.slot] = true
	}
	slot, maxSlot := 0, 0
	for _, m := range members {
		slot++
		for used[slot] {
			slot++
		}
		maxSlot = slot
		p.creates = append(p.creates, model.Step{
			Op: model.OpCreate, Service: p.svc.Name, Slot: slot, Instance: p.name(slot), Member: m,
			Reason: model.ReasonMissing, HostPorts: p.ports(slot),
		})
	}
	for _, s := range p.keeps {
		maxSlot = max(maxSlot, s.Slot)
	}
	for _, s := range p.replaces {
		maxSlot = max(maxSlot, s.Slot)
	}
	if err := checkPortRanges(p.svc, maxSlot, fmt.Sprintf("slot %d", maxSlot)); err != nil {
		return warnings, err
	}
	return warnings, nil
}
