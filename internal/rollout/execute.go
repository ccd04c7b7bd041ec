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

	"github.com/incus-fleet/incus-fleet/internal/crashpoint"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Actuator performs single-instance operations.
type Actuator interface {
	// Create creates and starts step.Instance on step.Member.
	Create(ctx context.Context, step model.Step) error
	// Delete stops and deletes the named instance, which must belong to
	// the step's service and slot (the actuator checks that before acting:
	// a name alone may have come to mean another instance).
	Delete(ctx context.Context, step model.Step, instance string) error
	// Running reports whether the instance is running.
	Running(ctx context.Context, instance string) (bool, error)
	// Probe runs a Compose healthcheck test inside the instance once.
	Probe(ctx context.Context, instance string, test []string, timeout time.Duration) (bool, error)
	// GatePassed records on step.Instance that it passed its update gate.
	GatePassed(ctx context.Context, step model.Step) error
}

// DefaultConcurrency is how many instance operations run at once unless
// Options says otherwise (the benchmark's baseline uses the same number).
const DefaultConcurrency = 4

// Options tunes execution.
type Options struct {
	// Concurrency bounds simultaneous instance operations (default DefaultConcurrency).
	Concurrency int
	Progress    io.Writer
	// Phase names what the plan does when it is not an update ("rollback"):
	// crash points then also fire as "<phase>-<point>", so tests can kill
	// a run inside its rollback.
	Phase string
}

// Outcome says which steps were carried out.
type Outcome struct {
	Done     []model.Step
	Failed   []StepError
	Warnings []string
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
		r.opts.Concurrency = DefaultConcurrency
	}
	if r.opts.Progress == nil {
		r.opts.Progress = io.Discard
	}
	var creates, deletes, duplicates []model.Step
	replaces := map[string][]model.Step{}
	for _, s := range plan.Steps {
		if s.Op == model.OpDelete && s.Reason == model.ReasonDuplicateSlot {
			duplicates = append(duplicates, s)
			continue
		}
		switch s.Op {
		case model.OpReplace, model.OpUpdate:
			replaces[s.Service] = append(replaces[s.Service], s)
		case model.OpCreate:
			creates = append(creates, s)
		case model.OpDelete:
			deletes = append(deletes, s)
		}
	}
	// Extra instances of a slot go first: one may hold the name a replace
	// of that slot needs.
	r.parallel(ctx, duplicates, r.delete)
	if err := r.err(); err != nil {
		return r.outcome(), err
	}
	order, err := dependencyOrder(stack, sortedServices(replaces)) // order.go
	if err != nil {
		return r.outcome(), err
	}
	for _, name := range order {
		svc := stack.Service(name)
		if svc == nil {
			return r.outcome(), fmt.Errorf("plan replaces instances of %q, which the stack does not define", name)
		}
		if err := r.rollService(ctx, replaces[name], svc); err != nil {
			return r.outcome(), err
		}
	}
	r.createInOrder(ctx, creates, stack) // depends_on: order.go
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

// hit marks a crash point, also under the run's phase name.
func (r *runner) hit(point string) {
	crashpoint.Hit(point)
	if r.opts.Phase != "" {
		crashpoint.Hit(r.opts.Phase + "-" + point)
	}
}

func (r *runner) create(ctx context.Context, s model.Step) error {
	return r.timed(fmt.Sprintf("%s: create on %s", s.Instance, s.Member), func() error { return r.act.Create(ctx, s) })
}

func (r *runner) delete(ctx context.Context, s model.Step) error {
	return r.timed(fmt.Sprintf("%s: delete from %s (%s)", s.Instance, s.Member, s.Reason), func() error { return r.act.Delete(ctx, s, s.Instance) })
}

// parallel runs fn over steps with bounded concurrency, records results and
// returns this call's failures.
func (r *runner) parallel(ctx context.Context, steps []model.Step, fn func(context.Context, model.Step) error) []StepError {
	var mu sync.Mutex
	var failed []StepError
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
			if err != nil {
				mu.Lock()
				failed = append(failed, StepError{Step: s, Err: err})
				mu.Unlock()
			}
		}(s)
	}
	wg.Wait()
	return failed
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

// warnf logs a warning and keeps it for the response.
func (r *runner) warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.out.Warnings = append(r.out.Warnings, msg)
	r.mu.Unlock()
	r.logf("warning: %s", msg)
}

func (r *runner) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.opts.Progress, "[%6.2fs] %s\n", time.Since(r.start).Seconds(), fmt.Sprintf(format, args...))
}

func (r *runner) outcome() Outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := Outcome{Done: append([]model.Step{}, r.out.Done...), Failed: append([]StepError{}, r.out.Failed...),
		Warnings: append([]string{}, r.out.Warnings...)}
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
