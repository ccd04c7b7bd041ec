package planner

import (
	"cmp"
	"slices"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// appendSteps appends the service's steps to dst in execution order:
// duplicate-slot deletes (they may hold the name a replace needs), replaces
// by slot, creates by slot, other deletes by slot descending, keeps by slot.
// Replacing first rolls the update before scaling; deleting highest slots
// first keeps the remaining slots contiguous if the run stops half-way.
func (p *servicePlan) appendSteps(dst []model.Step) []model.Step {
	sortBySlot(p.replaces)
	sortBySlot(p.creates)
	sortDeletes(p.deletes)
	sortBySlot(p.keeps)
	p.batch()
	dst = append(dst, p.volumeOps...) // volumes first: the instances attach them
	for _, d := range p.deletes {
		if d.Reason == model.ReasonDuplicateSlot {
			dst = append(dst, d)
		}
	}
	out := append(dst, p.replaces...)
	out = append(out, p.creates...)
	for _, d := range p.deletes {
		if d.Reason != model.ReasonDuplicateSlot {
			out = append(out, d)
		}
	}
	out = append(out, p.keeps...)
	return append(out, p.staleCopies...)
}

func (p *servicePlan) len() int {
	return len(p.replaces) + len(p.creates) + len(p.deletes) + len(p.keeps) + len(p.volumeOps) + len(p.staleCopies)
}

// batch numbers the replaces by update_config.parallelism (0 = all in
// batch 1) and stamps the update order where overlapReplaces did not
// decide it; Swarm's default is stop-first.
func (p *servicePlan) batch() {
	uc := p.svc.Deploy.UpdateConfig
	order := uc.Order
	if order == "" || p.stopFirst != "" {
		order = model.OrderStopFirst
	}
	for i := range p.replaces {
		if p.replaces[i].Order == "" && p.replaces[i].Op != model.OpUpdate {
			p.replaces[i].Order = order
		}
		p.replaces[i].Batch = 1
		if uc.Parallelism > 0 {
			p.replaces[i].Batch = i/uc.Parallelism + 1
		}
	}
}

func sortBySlot(s []model.Step) {
	slices.SortStableFunc(s, func(a, b model.Step) int {
		return cmp.Or(cmp.Compare(a.Slot, b.Slot), cmp.Compare(a.Instance, b.Instance))
	})
}

// sortDeletes orders deletes by service, slot descending, then name.
func sortDeletes(s []model.Step) {
	slices.SortStableFunc(s, func(a, b model.Step) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(b.Slot, a.Slot), cmp.Compare(a.Instance, b.Instance))
	})
}

func sortPending(s []pending) {
	slices.SortFunc(s, func(a, b pending) int { return cmp.Compare(a.slot, b.slot) })
}
