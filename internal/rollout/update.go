package rollout

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// PausedError stops an update whose failures exceeded max_failure_ratio with
// failure_action pause: the failed slots are named; untouched slots keep
// their old instances running.
type PausedError struct {
	Service string
	Failed  []string // instances
	Slots   []int    // their slots
	Cause   error
	// Unhealthy: a new instance failed its gate (GateError), so the new
	// version is at fault and the update stays paused; otherwise the
	// cluster failed an operation and applying again retries.
	Unhealthy bool
}

func (e *PausedError) Error() string {
	next := "apply again to retry (the cluster failed an operation, not the new version), or roll back with stack.rollback"
	if e.Unhealthy {
		next = "applying the same spec again changes nothing. Fix the service and apply again, or roll back with stack.rollback; " +
			"resume: true (--resume) retries the update as it is"
	}
	return fmt.Sprintf("update of %s paused after %s (slot %s) failed: %v; the remaining slots keep their old instances; %s",
		e.Service, strings.Join(e.Failed, ", "), joinInts(e.Slots), e.Cause, next)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

func (e *PausedError) Unwrap() error { return e.Cause }

// RollbackError asks the caller to roll the stack back (failure_action
// rollback): the update failed and its updated slots must return to the
// previous deployed spec.
type RollbackError struct {
	Service   string
	Failed    []string
	Slots     []int
	Cause     error
	Unhealthy bool // as PausedError.Unhealthy
}

func (e *RollbackError) Error() string {
	return fmt.Sprintf("update of %s failed (%s: %v)", e.Service, strings.Join(e.Failed, ", "), e.Cause)
}

func (e *RollbackError) Unwrap() error { return e.Cause }

// rollService replaces one service's slots batch by batch with a delay in
// between, and applies failure_action once the share of failed slots goes
// above max_failure_ratio (Swarm's updater rules).
func (r *runner) rollService(ctx context.Context, steps []model.Step, svc *model.Service) error {
	cfg := svc.Deploy.UpdateConfig
	batches := map[int][]model.Step{}
	for _, s := range steps {
		batches[s.Batch] = append(batches[s.Batch], s)
	}
	keys := make([]int, 0, len(batches))
	for b := range batches {
		keys = append(keys, b)
	}
	sort.Ints(keys)
	var failed []string
	var slots []int
	var lastErr error
	unhealthy := false
	for i, b := range keys {
		if i > 0 && cfg.Delay > 0 {
			r.logf("%s: waiting %s before batch %d", svc.Name, cfg.Delay, b)
			if err := Sleep(ctx, cfg.Delay); err != nil {
				return err
			}
		}
		r.logf("%s: batch %d of %d (%d instances, %s)", svc.Name, i+1, len(keys), len(batches[b]), batches[b][0].Order)
		for _, f := range r.parallel(ctx, batches[b], func(ctx context.Context, s model.Step) error { return r.replace(ctx, s, svc) }) {
			failed = append(failed, f.Step.Instance)
			slots = append(slots, f.Step.Slot)
			lastErr = f.Err
			unhealthy = unhealthy || errors.As(f.Err, new(*GateError))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.hit("between-batches")
		if len(failed) == 0 || float64(len(failed))/float64(len(steps)) <= cfg.MaxFailureRatio {
			continue
		}
		switch cfg.FailureAction {
		case "continue":
			r.logf("%s: %d failed, continuing (failure_action continue)", svc.Name, len(failed))
		case "rollback":
			return &RollbackError{Service: svc.Name, Failed: failed, Slots: slots, Cause: lastErr, Unhealthy: unhealthy}
		default:
			return &PausedError{Service: svc.Name, Failed: failed, Slots: slots, Cause: lastErr, Unhealthy: unhealthy}
		}
	}
	return nil
}

// replace carries out one slot's update in its planned order. An update
// step (OpUpdate) re-runs the gate of an instance a killed run left
// unproven.
func (r *runner) replace(ctx context.Context, s model.Step, svc *model.Service) error {
	if s.Op == model.OpUpdate {
		return r.timed(fmt.Sprintf("%s: re-run the update gate on %s (%s)", s.Instance, s.Member, s.Reason), func() error {
			return r.gate(ctx, s, svc)
		})
	}
	what := fmt.Sprintf("%s: replace %s on %s (%s, %s)", s.Instance, s.OldInstance, s.Member, s.Reason, s.Order)
	return r.timed(what, func() error {
		if s.Order == model.OrderStartFirst {
			return r.startFirst(ctx, s, svc)
		}
		if err := r.act.Delete(ctx, s, s.OldInstance); err != nil {
			return err
		}
		r.hit("stop-first-old-gone")
		if err := r.act.Create(ctx, s); err != nil {
			return err
		}
		return r.gate(ctx, s, svc)
	})
}

// gate waits for the new instance to be healthy, then records that it
// passed, so a later run can tell a proven replacement from one a crash
// interrupted.
func (r *runner) gate(ctx context.Context, s model.Step, svc *model.Service) error {
	if err := r.waitHealthy(ctx, s, svc); err != nil {
		return err
	}
	r.hit("gate-passed-not-recorded")
	return r.act.GatePassed(ctx, s)
}

// startFirst runs the new instance until it is healthy, and only then stops
// the old one; a new instance that never gets healthy is removed again and
// the old one keeps serving.
func (r *runner) startFirst(ctx context.Context, s model.Step, svc *model.Service) error {
	err := r.act.Create(ctx, s)
	if err == nil {
		err = r.gate(ctx, s, svc)
	}
	if err != nil {
		if derr := r.act.Delete(context.WithoutCancel(ctx), s, s.Instance); derr != nil {
			r.logf("%s: could not remove the failed new instance: %v", s.Instance, derr)
		}
		return err
	}
	r.hit("start-first-both-running")
	if err := r.act.Delete(ctx, s, s.OldInstance); err != nil {
		if s.Reason == model.ReasonMemberLost {
			// Its member is gone; the slot has its new instance, and the
			// next run deletes the stale one as a duplicate.
			r.warnf("%s: old instance %s on %s could not be removed yet (%v); the next apply removes it", s.Instance, s.OldInstance, s.OldMember, err)
			return nil
		}
		return err
	}
	return nil
}
