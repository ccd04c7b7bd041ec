package planner

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/scheduler"
)

// Plan computes the steps that take the stack from what state shows to
// desired. On a placement failure the error is a
// *scheduler.NoSuitableNodeError; every other error is a *SpecError (use
// errors.As for both).
func Plan(desired *model.Stack, state *model.ClusterState, opts Options) (model.Plan, Result, error) {
	var res Result
	if desired == nil {
		return model.Plan{}, res, &SpecError{Err: fmt.Errorf("no stack to plan")}
	}
	plan := model.Plan{Stack: desired.Name, Steps: []model.Step{}}
	cur, warnings := currentByService(desired.Name, state)
	res.Warnings = warnings

	services := make([]*model.Service, len(desired.Services))
	for i := range desired.Services {
		services[i] = &desired.Services[i]
	}
	slices.SortStableFunc(services, func(a, b *model.Service) int { return cmp.Compare(a.Name, b.Name) })
	for i := 1; i < len(services); i++ {
		if services[i].Name == services[i-1].Name {
			return plan, res, &SpecError{Err: fmt.Errorf("duplicate service %q", services[i].Name)}
		}
	}
	selected, err := selection(opts.Services, services, cur)
	if err != nil {
		return plan, res, err
	}

	vols := newVolumeIndex(desired, state, opts) // volumes.go
	if err := vols.check(); err != nil {
		return plan, res, err
	}
	cl := scheduler.NewCluster(state)
	taken, notes := occupied(desired.Name, state, cl)
	res.Warnings = append(res.Warnings, notes...)
	pins, notes, err := vols.colocate(cl, cur) // colocate.go
	if err != nil {
		return plan, res, err
	}
	res.Warnings = append(res.Warnings, notes...)
	// Pass 1: classify what exists, service by service.
	plans := make([]*servicePlan, 0, len(services))
	for _, svc := range services {
		if !selected(svc.Name) {
			continue
		}
		sp, err := classify(svc, cur[svc.Name], cl, opts, taken, vols, pins)
		if err != nil {
			return plan, res, err
		}
		plans = append(plans, sp)
	}
	// Pass 2: place what is missing or moving, in service name order.
	for _, sp := range plans {
		if sp.svc.Deploy.Mode == model.ModeGlobal {
			w, err := sp.placeGlobal()
			res.Warnings = append(res.Warnings, w...)
			if err != nil {
				return plan, res, err
			}
		} else if err := sp.placeReplicated(); err != nil {
			return plan, res, err
		}
		res.Warnings = append(res.Warnings, sp.overlapReplaces()...)
		res.Warnings = append(res.Warnings, sp.stopFirstWarning()...) // sticky.go
		vw, err := sp.planVolumes()                                   // volume_steps.go
		if err != nil {
			return plan, res, err
		}
		res.Warnings = append(res.Warnings, vw...)
		res.Warnings = append(res.Warnings, sp.notices()...)
	}

	// Emit: services by name (unselected ones keep everything), then orphans.
	total := 0
	for _, list := range cur {
		total += len(list)
	}
	for _, sp := range plans {
		total += sp.len()
	}
	plan.Steps = make([]model.Step, 0, total)
	next := 0
	for _, svc := range services {
		if next < len(plans) && plans[next].svc == svc {
			plan.Steps = plans[next].appendSteps(plan.Steps)
			next++
			continue
		}
		for _, c := range cur[svc.Name] {
			plan.Steps = append(plan.Steps, keepStep(svc.Name, c, svc))
		}
	}
	orphans, notes := orphanSteps(desired, cur, selected, cl)
	plan.Steps = append(plan.Steps, orphans...)
	res.Warnings = append(res.Warnings, notes...)
	if len(opts.Services) == 0 {
		dels, notes := vols.orphans(cl) // volume_steps.go
		plan.Steps = append(plan.Steps, dels...)
		res.Warnings = append(res.Warnings, notes...)
	}
	if w := storageWarning(desired, state, runningAfter(plan)); w != "" {
		res.Warnings = append(res.Warnings, w)
	}
	return plan, res, nil
}

// classify prepares a service's scheduler and runs pass 1 on its instances.
func classify(svc *model.Service, list []current, cl *scheduler.Cluster, opts Options, taken map[string]bool, vols *volumeIndex, pins map[string]pin) (*servicePlan, error) {
	switch svc.Deploy.Mode {
	case "", model.ModeReplicated, model.ModeGlobal:
	default:
		return nil, &SpecError{svc.Name, fmt.Errorf("unknown deploy mode %q", svc.Deploy.Mode)}
	}
	sched, err := cl.Service(svc)
	if err != nil {
		return nil, &SpecError{svc.Name, err}
	}
	if p, ok := pins[svc.Name]; ok {
		sched.Pin(p.member, p.why) // shares a volume on a local pool
	}
	sp := &servicePlan{svc: svc, sched: sched, fp: opts.ImageFingerprints[svc.Name], force: opts.ForceRecreate, existing: list, occupied: taken,
		vols: vols, cl: cl, sticky: map[int]sticky{}, moves: map[int]string{}}
	sp.stopFirst = sp.volumeOrder() // sticky.go
	winners, losers := dedupe(list, sp.rank)
	// Most instances end up kept; sizing once avoids regrowing 168-byte steps.
	sp.keeps = make([]model.Step, 0, len(winners))
	for _, l := range losers {
		sp.remove(l, ReasonDuplicateSlot, cl)
	}
	if svc.Deploy.Mode == model.ModeGlobal {
		sp.classifyGlobal(winners, cl)
		return sp, nil
	}
	return sp, sp.classifyReplicated(winners, cl)
}

// orphanSteps deletes the instances of services the stack no longer has,
// or keeps them when the run is limited to other services. Orphans on an
// offline member are left alone with a warning (offline.go).
func orphanSteps(desired *model.Stack, cur map[string][]current, selected func(string) bool, cl *scheduler.Cluster) ([]model.Step, []string) {
	var names []string
	for name := range cur {
		if desired.Service(name) == nil {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var del, keep []model.Step
	var notes []string
	for _, name := range names {
		for _, c := range cur[name] {
			switch {
			case selected(name) && unreachable(c, cl):
				notes = append(notes, leftAlone(name, c, model.ReasonOrphan))
			case selected(name):
				del = append(del, deleteStep(name, c, model.ReasonOrphan))
			default:
				keep = append(keep, keepStep(name, c, nil))
			}
		}
	}
	sortDeletes(del)
	return append(del, keep...), notes
}

// selection returns the predicate for Options.Services. Naming a service
// neither in the stack nor running is an error: it is almost always a typo.
func selection(names []string, services []*model.Service, cur map[string][]current) (func(string) bool, error) {
	if len(names) == 0 {
		return func(string) bool { return true }, nil
	}
	set := map[string]bool{}
	for _, n := range names {
		known := len(cur[n]) > 0
		for _, s := range services {
			known = known || s.Name == n
		}
		if !known {
			return nil, &SpecError{Err: fmt.Errorf("unknown service %q", n)}
		}
		set[n] = true
	}
	return func(name string) bool { return set[name] }, nil
}
