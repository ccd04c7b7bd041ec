package rollout

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// completedWait bounds how long a dependent waits for a dependency with
// condition service_completed_successfully to finish.
const completedWait = 10 * time.Minute

// dependencyOrder sorts service names so that every service comes after the
// services it depends on (depends_on), ties broken by name. The loader
// refuses cycles; one reaching here is an error rather than a hang.
func dependencyOrder(stack *model.Stack, names []string) ([]string, error) {
	in := map[string]bool{}
	for _, n := range names {
		in[n] = true
	}
	sorted := slices.Sorted(slices.Values(names))
	var out []string
	state := map[string]int{} // 0 new, 1 visiting, 2 done
	var visit func(n string, path []string) error
	visit = func(n string, path []string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("depends_on cycle: %s", strings.Join(append(path, n), " -> "))
		case 2:
			return nil
		}
		state[n] = 1
		if svc := stack.Service(n); svc != nil {
			for _, d := range svc.DependsOn {
				if in[d.Service] {
					if err := visit(d.Service, append(path, n)); err != nil {
						return err
					}
				}
			}
		}
		state[n] = 2
		out = append(out, n)
		return nil
	}
	for _, n := range sorted {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// createInOrder creates instances so that a service's instances are created
// only once the instances its dependencies get in this run are ready:
// running (service_started), healthy (service_healthy) or finished
// (service_completed_successfully). Services without a dependency between
// them are created in parallel, within one shared concurrency bound, so
// depends_on costs nothing when a stack does not use it.
func (r *runner) createInOrder(ctx context.Context, creates []model.Step, stack *model.Stack) {
	byService := map[string][]model.Step{}
	for _, s := range creates {
		byService[s.Service] = append(byService[s.Service], s)
	}
	names := make([]string, 0, len(byService))
	for n := range byService {
		names = append(names, n)
	}
	if _, err := dependencyOrder(stack, names); err != nil {
		for _, s := range creates {
			r.record(s, err)
		}
		return
	}
	states := map[string]*depState{}
	for _, n := range names {
		states[n] = &depState{ready: make(chan struct{})}
	}
	sem := make(chan struct{}, r.opts.Concurrency)
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			st := states[name]
			defer close(st.ready)
			svc := stack.Service(name)
			if err := r.awaitDependencies(ctx, svc, states); err != nil {
				st.failed = true
				for _, s := range byService[name] {
					r.logf("%s: not created: %v", s.Instance, err)
					r.record(s, err)
				}
				return
			}
			var created []model.Step
			var mu sync.Mutex
			var swg sync.WaitGroup
			for _, s := range byService[name] {
				swg.Add(1)
				sem <- struct{}{}
				go func(s model.Step) {
					defer func() { <-sem; swg.Done() }()
					err := ctx.Err()
					if err == nil {
						err = r.create(ctx, s)
					}
					r.record(s, err)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						st.failed = true // read by dependents only after ready closes
					} else {
						created = append(created, s)
					}
				}(s)
			}
			swg.Wait()
			if !st.failed && svc != nil {
				if err := r.readyFor(ctx, svc, created, stack, names); err != nil {
					r.logf("%s: %v", name, err)
					st.failed = true
				}
			}
		}(name)
	}
	wg.Wait()
}

// depState is one service's progress in a run: ready closes once its
// instances are created and ready for its dependents (or have failed).
type depState struct {
	ready  chan struct{}
	failed bool
}

// awaitDependencies waits until every dependency created in this run is
// ready; a failed required dependency fails the dependent.
func (r *runner) awaitDependencies(ctx context.Context, svc *model.Service, states map[string]*depState) error {
	if svc == nil {
		return nil
	}
	for _, d := range svc.DependsOn {
		dep, ok := states[d.Service]
		if !ok {
			continue // not created in this run: it already runs (or is not part of the stack)
		}
		r.logf("%s: waiting for %s (%s)", svc.Name, d.Service, d.Condition)
		select {
		case <-dep.ready:
		case <-ctx.Done():
			return ctx.Err()
		}
		if dep.failed && d.Required {
			return fmt.Errorf("its dependency %s did not become ready (depends_on condition %s)", d.Service, d.Condition)
		}
	}
	return nil
}

// readyFor waits until the instances just created of svc meet the strongest
// condition any dependent created in this run asks for.
func (r *runner) readyFor(ctx context.Context, svc *model.Service, created []model.Step, stack *model.Stack, inRun []string) error {
	cond := ""
	for _, n := range inRun {
		other := stack.Service(n)
		if other == nil {
			continue
		}
		for _, d := range other.DependsOn {
			if d.Service == svc.Name && conditionRank(d.Condition) > conditionRank(cond) {
				cond = d.Condition
			}
		}
	}
	for _, s := range created {
		switch cond {
		case model.DependsHealthy:
			if hc := svc.Healthcheck; hc != nil && len(hc.Test) > 0 {
				if err := r.healthcheck(ctx, s.Instance, hc); err != nil {
					return err
				}
			}
		case model.DependsCompleted:
			if err := r.waitStopped(ctx, s.Instance); err != nil {
				return err
			}
		}
	}
	return nil
}

func conditionRank(c string) int {
	switch c {
	case model.DependsStarted:
		return 1
	case model.DependsHealthy:
		return 2
	case model.DependsCompleted:
		return 3
	}
	return 0
}

// waitStopped waits for a run-to-completion dependency to finish.
func (r *runner) waitStopped(ctx context.Context, instance string) error {
	deadline := time.Now().Add(completedWait)
	errorsInRow := 0
	for time.Now().Before(deadline) {
		running, err := r.act.Running(ctx, instance)
		if err != nil {
			// Incus fails to read the state of a container that is
			// shutting down ("Invalid PID"); only a lasting error counts.
			if errorsInRow++; errorsInRow >= 20 || ctx.Err() != nil {
				return err
			}
			running = true
		} else {
			errorsInRow = 0
		}
		if !running {
			r.logf("%s: completed", instance)
			return nil
		}
		if err := Sleep(ctx, pollInterval); err != nil {
			return err
		}
	}
	return fmt.Errorf("%s still runs after %s; a service_completed_successfully dependency must finish", instance, completedWait)
}
