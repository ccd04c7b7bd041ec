package planner

import (
	"fmt"
	"slices"

	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/scheduler"
)

// classifyReplicated is pass 1 for a replicated service: slots 1..replicas
// stay where they are when their member is still eligible and under the
// caps (in slot order, so the lower slots win a cap), move when not, and
// slots above replicas are scaled down.
func (p *servicePlan) classifyReplicated(winners []current, cl *scheduler.Cluster) error {
	n := p.svc.Deploy.Replicas
	if n < 0 {
		return &SpecError{p.svc.Name, fmt.Errorf("negative replicas %d", n)}
	}
	if err := checkPortRanges(p.svc, n, fmt.Sprintf("%d replicas", n)); err != nil {
		return err
	}
	have := make(map[int]bool, len(winners))
	for _, w := range winners {
		have[w.slot] = true
		switch {
		case w.slot > n:
			p.remove(w, model.ReasonScaleDown, cl)
		case p.movesHome(w): // sticky.go
		case p.sched.Fits(w.member):
			p.stay(w)
		case p.holdBack(w.slot, &w): // sticky.go
		default:
			cl.Release(w.member)
			p.pending = append(p.pending, pending{slot: w.slot, old: &w})
		}
	}
	for slot := 1; slot <= n; slot++ {
		if !have[slot] && !p.holdBack(slot, nil) {
			p.pending = append(p.pending, pending{slot: slot})
		}
	}
	return nil
}

// placeReplicated is pass 2: members for the pending slots, lowest slot
// first, in the scheduler's placement order.
func (p *servicePlan) placeReplicated() error {
	if len(p.pending) == 0 {
		return nil
	}
	sortPending(p.pending)
	p.pending = p.placeSticky(p.pending) // sticky.go
	members, err := p.sched.Place(len(p.pending))
	if err != nil {
		return err
	}
	p.creates = slices.Grow(p.creates, len(p.pending))
	for i, pd := range p.pending {
		if pd.old != nil {
			p.replaces = append(p.replaces, p.replace(pd.slot, members[i], model.ReasonMemberLost, pd.old))
			continue
		}
		p.creates = append(p.creates, model.Step{
			Op: model.OpCreate, Service: p.svc.Name, Slot: pd.slot, Instance: p.name(pd.slot), Member: members[i],
			Reason: model.ReasonMissing, HostPorts: p.ports(pd.slot),
		})
	}
	return nil
}
