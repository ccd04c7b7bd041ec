package rollout

import (
	"context"
	"fmt"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// GateError is a failure of the new version itself, as opposed to the
// cluster failing an operation: it failed its update gate (unhealthy, its
// main process exited, no address), or the actuator's Create says it
// cannot run as specified (an unknown user, it does not start). Only the
// former keeps an update paused, or rolled back, until the spec changes.
type GateError struct{ Err error }

func (e *GateError) Error() string { return e.Err.Error() }
func (e *GateError) Unwrap() error { return e.Err }

// pollInterval is how often the monitor window looks at the instance state.
const pollInterval = 250 * time.Millisecond

// waitHealthy is the update gate of one new instance: its healthcheck must
// pass (Docker rules: failures during start_period don't count; `retries`
// consecutive failures after it mean unhealthy), then it must still be
// running at the end of the monitor window. Without a healthcheck, healthy
// is "running and still running after monitor", as Swarm does.
func (r *runner) waitHealthy(ctx context.Context, s model.Step, svc *model.Service) error {
	begin := time.Now()
	r.hit("gate")
	if hc := svc.Healthcheck; hc != nil && len(hc.Test) > 0 {
		if err := r.healthcheck(ctx, s.Instance, hc); err != nil {
			return err
		}
	}
	monitor := svc.Deploy.UpdateConfig.Monitor
	deadline := time.Now().Add(monitor)
	for {
		running, err := r.act.Running(ctx, s.Instance)
		if err != nil {
			return err
		}
		if !running {
			return &GateError{fmt.Errorf("%s stopped during the monitor window (%s after start)", s.Instance, time.Since(begin).Round(time.Millisecond))}
		}
		if !time.Now().Before(deadline) {
			r.logf("%s: healthy after %.2fs", s.Instance, time.Since(begin).Seconds())
			return nil
		}
		if err := Sleep(ctx, min(pollInterval, time.Until(deadline))); err != nil {
			return err
		}
	}
}

func (r *runner) healthcheck(ctx context.Context, instance string, hc *model.Healthcheck) error {
	begin := time.Now()
	failures := 0
	for attempt := 1; ; attempt++ {
		ok, err := r.act.Probe(ctx, instance, hc.Test, hc.Timeout)
		if err != nil {
			// A probe cannot run in an instance whose main process has
			// exited: that is the new version's failure, not the cluster's.
			if running, rerr := r.act.Running(ctx, instance); rerr == nil && !running {
				return &GateError{fmt.Errorf("%s stopped before its healthcheck passed (%s after start; the probe failed: %v)", instance, time.Since(begin).Round(time.Millisecond), err)}
			}
			return err
		}
		if ok {
			r.logf("%s: healthcheck passed (attempt %d, %.2fs)", instance, attempt, time.Since(begin).Seconds())
			return nil
		}
		if time.Since(begin) >= hc.StartPeriod {
			failures++
		}
		retries := max(hc.Retries, 1)
		if failures >= retries {
			return &GateError{fmt.Errorf("%s is unhealthy: healthcheck failed %d times in a row after the %s start period", instance, failures, hc.StartPeriod)}
		}
		r.logf("%s: waiting for healthcheck (attempt %d failed)", instance, attempt)
		if err := Sleep(ctx, probeInterval(hc, time.Since(begin))); err != nil {
			return err
		}
	}
}

// Sleep waits d, or until ctx ends (returning its error).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// probeInterval is healthcheck.start_interval during the start period (when
// set), else interval, as Docker probes a starting container more often.
func probeInterval(hc *model.Healthcheck, elapsed time.Duration) time.Duration {
	if hc.StartInterval > 0 && elapsed < hc.StartPeriod {
		return hc.StartInterval
	}
	return hc.Interval
}
