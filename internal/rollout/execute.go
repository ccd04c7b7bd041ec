// Package rollout executes a plan: it decides what runs concurrently, in
// which order batches go, and reports progress. It knows nothing of Incus;
// an Actuator does the work.
package rollout

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Actuator performs single-instance operations.
type Actuator interface {
	// Create creates and starts step.Instance on step.Member.
	Create(ctx context.Context, step model.Step) error
	// Delete stops and deletes the named instance.
	Delete(ctx context.Context, instance string) error
}

// Options tunes execution.
type Options struct {
	// Concurrency bounds simultaneous instance operations (default 4).
	Concurrency int
	Progress    io.Writer
}

// Outcome says which steps were carried out.
type Outcome struct {
	Done   []model.Step
	Failed []StepError
}

// StepError is one failed step.
type StepError struct {
	Step model.Step
	Err  error
}

// Execute carries out the plan: rolling replaces per service and batch,
// then creates, then deletes, so capacity is added before it is removed.
func Execute(ctx context.Context, plan model.Plan, stack *model.Stack, act Actuator, o Options) (Outcome, error) {
	r := &runner{act: act, opts: o, start: time.Now()}
	if r.opts.Concurrency <= 0 {
		r.opts.Concurrency = 4
	}
	if r.opts.Progress == nil {
		r.opts.Progress = io.Discard
	}
	var creates, deletes []model.Step
	replaces := map[string][]model.Step{}
	for _, s := range plan.Steps {
		switch s.Op {
		case model.OpReplace:
			replaces[s.Service] = append(replaces[s.Service], s)
		case model.OpCreate:
			creates = append(creates, s)
		case model.OpDelete:
			deletes = append(deletes, s)
		}
	}
	for _, svc := range sortedServices(replaces) {
		cfg := model.UpdateConfig{}
		if def := stack.Service(svc); def != nil {
			cfg = def.Deploy.UpdateConfig
		}
		if err := r.rollService(ctx, replaces[svc], cfg); err != nil {
			return r.outcome(), err
		}
	}
	r.parallel(ctx, creates, r.create)
	r.parallel(ctx, deletes, r.delete)
	return r.outcome(), r.err()
}

type runner struct {
	act   Actuator
	opts  Options
	start time.Time
	mu    sync.Mutex
	out   Outcome
}

// rollService replaces one service's slots batch by batch (stop-first:
// delete the old instance, then create the new one under the same name).
func (r *runner) rollService(ctx context.Context, steps []model.Step, cfg model.UpdateConfig) error {
	batches := map[int][]model.Step{}
	for _, s := range steps {
		batches[s.Batch] = append(batches[s.Batch], s)
	}
	keys := make([]int, 0, len(batches))
	for b := range batches {
		keys = append(keys, b)
	}
	sort.Ints(keys)
	for i, b := range keys {
		if i > 0 && cfg.Delay > 0 {
			r.logf("%s: waiting %s before batch %d", steps[0].Service, cfg.Delay, b)
			select {
			case <-time.After(cfg.Delay):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		r.logf("%s: batch %d of %d (%d instances)", steps[0].Service, i+1, len(keys), len(batches[b]))
		r.parallel(ctx, batches[b], r.replace)
		if err := r.err(); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) create(ctx context.Context, s model.Step) error {
	return r.timed(fmt.Sprintf("%s: create on %s", s.Instance, s.Member), func() error { return r.act.Create(ctx, s) })
}

func (r *runner) delete(ctx context.Context, s model.Step) error {
	return r.timed(fmt.Sprintf("%s: delete from %s (%s)", s.Instance, s.Member, s.Reason), func() error { return r.act.Delete(ctx, s.Instance) })
}

func (r *runner) replace(ctx context.Context, s model.Step) error {
	old := s.OldInstance
	if old == "" {
		old = s.Instance
	}
	return r.timed(fmt.Sprintf("%s: replace on %s (%s)", s.Instance, s.Member, s.Reason), func() error {
		if err := r.act.Delete(ctx, old); err != nil {
			return err
		}
		return r.act.Create(ctx, s)
	})
}

// parallel runs fn over steps with bounded concurrency and records results.
func (r *runner) parallel(ctx context.Context, steps []model.Step, fn func(context.Context, model.Step) error) {
	sem := make(chan struct{}, r.opts.Concurrency)
	var wg sync.WaitGroup
	for _, s := range steps {
		wg.Add(1)
		sem <- struct{}{}
		go func(s model.Step) {
			defer func() { <-sem; wg.Done() }()
			err := ctx.Err()
			if err == nil {
				err = fn(ctx, s)
			}
			r.record(s, err)
		}(s)
	}
	wg.Wait()
}

func (r *runner) record(s model.Step, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.out.Failed = append(r.out.Failed, StepError{Step: s, Err: err})
		return
	}
	r.out.Done = append(r.out.Done, s)
}

func (r *runner) timed(what string, fn func() error) error {
	begin := time.Now()
	r.logf("%s …", what)
	err := fn()
	if err != nil {
		r.logf("%s failed after %.2fs: %v", what, time.Since(begin).Seconds(), err)
		return err
	}
	r.logf("%s done in %.2fs", what, time.Since(begin).Seconds())
	return nil
}

func (r *runner) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.opts.Progress, "[%6.2fs] %s\n", time.Since(r.start).Seconds(), fmt.Sprintf(format, args...))
}

func (r *runner) outcome() Outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := Outcome{Done: append([]model.Step{}, r.out.Done...), Failed: append([]StepError{}, r.out.Failed...)}
	sort.Slice(out.Done, func(i, j int) bool { return out.Done[i].Instance < out.Done[j].Instance })
	sort.Slice(out.Failed, func(i, j int) bool { return out.Failed[i].Step.Instance < out.Failed[j].Step.Instance })
	return out
}

// err summarises failures so far, naming every failed instance.
func (r *runner) err() error {
	out := r.outcome()
	if len(out.Failed) == 0 {
		return nil
	}
	parts := make([]string, len(out.Failed))
	errs := make([]error, len(out.Failed))
	for i, f := range out.Failed {
		parts[i] = fmt.Sprintf("%s %s: %v", f.Step.Op, f.Step.Instance, f.Err)
		errs[i] = f.Err
	}
	return &Error{Message: strings.Join(parts, "; "), Causes: errs}
}

// Error reports the failed steps of an execution.
type Error struct {
	Message string
	Causes  []error
}

func (e *Error) Error() string   { return e.Message }
func (e *Error) Unwrap() []error { return e.Causes }

func sortedServices(m map[string][]model.Step) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
