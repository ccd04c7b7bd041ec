// Package health decides, without any I/O, what a replica's continuous
// healthcheck means, the way Docker runs a HEALTHCHECK, and when its
// restart_policy allows a restart (Swarm's condition, delay, max_attempts
// and window). `stack watch` feeds it probe results and acts on what it
// says: record a transition on the instance, take an unhealthy replica out
// of the names, restart it.
package health

import (
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// States, as Docker names them.
const (
	Starting  = "starting"
	Healthy   = "healthy"
	Unhealthy = "unhealthy"
)

// Docker's defaults for a healthcheck's unset durations and retries.
const (
	DefaultInterval      = 30 * time.Second
	DefaultTimeout       = 30 * time.Second
	DefaultRetries       = 3
	DefaultStartInterval = 5 * time.Second
)

// Check is a healthcheck with Docker's defaults filled in.
type Check struct {
	Interval, Timeout, StartPeriod, StartInterval time.Duration
	Retries                                       int
}

// CheckOf fills in a service healthcheck's defaults; ok is false when the
// service has none to run (absent, disabled or NONE).
func CheckOf(h *model.Healthcheck) (Check, bool) {
	if h == nil || h.Disabled || len(h.Test) == 0 || h.Test[0] == "NONE" {
		return Check{}, false
	}
	c := Check{Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Retries <= 0 {
		c.Retries = DefaultRetries
	}
	if c.StartInterval <= 0 {
		c.StartInterval = DefaultStartInterval
	}
	return c, true
}

// Replica is what the watch knows of one replica's health.
type Replica struct {
	State    string    // Starting until a probe passes or the retries run out
	Since    time.Time // when the replica (re)started
	Failures int       // probes failed in a row (outside the start period)
	Next     time.Time // when to probe next
	Output   string    // the last probe's output
	// StartDone is set by the first passing probe: the start period ends
	// there, as in Docker.
	StartDone bool
}

// NewReplica starts tracking a replica that (re)started at since.
func NewReplica(since time.Time) *Replica {
	return &Replica{State: Starting, Since: since, Next: since}
}

// Due reports whether the replica should be probed now.
func (r *Replica) Due(now time.Time) bool { return !now.Before(r.Next) }

// Observe records one probe's result and returns the state before it, so
// the caller acts on a transition only. During the start period a failure
// does not count; a pass ends the start period.
func (r *Replica) Observe(c Check, now time.Time, ok bool, output string) (before string) {
	before = r.State
	r.Output = output
	inStart := !r.StartDone && now.Before(r.Since.Add(c.StartPeriod))
	switch {
	case ok:
		r.Failures = 0
		r.StartDone = true
		r.State = Healthy
	case inStart:
		// Not counted: the service is still starting.
	default:
		r.Failures++
		if r.Failures >= c.Retries {
			r.State = Unhealthy
		}
	}
	next := c.Interval
	if !r.StartDone && now.Before(r.Since.Add(c.StartPeriod)) {
		next = c.StartInterval
	}
	r.Next = now.Add(next)
	return before
}

// Restarts is a replica's restart history under its restart_policy.
type Restarts struct {
	At []time.Time // restarts the watch made, oldest first
}

// Decision says whether an unhealthy replica is restarted now, later, or
// no more.
type Decision struct {
	Restart bool
	Wait    time.Duration // > 0: restart after this delay (restart_policy.delay)
	GiveUp  bool          // max_attempts reached within the window
}

// Decide applies restart_policy to an unhealthy replica that became so at
// unhealthySince. Condition none never restarts; on-failure and any do
// (an unhealthy replica has failed); max_attempts counts the restarts
// within window (the whole history when window is 0), 0 meaning no limit.
func (r *Restarts) Decide(p model.RestartPolicy, unhealthySince, now time.Time) Decision {
	if p.Condition == "none" {
		return Decision{GiveUp: true}
	}
	if p.MaxAttempts > 0 {
		n := 0
		for _, t := range r.At {
			if p.Window <= 0 || now.Sub(t) < p.Window {
				n++
			}
		}
		if n >= p.MaxAttempts {
			return Decision{GiveUp: true}
		}
	}
	if wait := unhealthySince.Add(p.Delay).Sub(now); wait > 0 {
		return Decision{Wait: wait}
	}
	return Decision{Restart: true}
}

// Record notes a restart made at now.
func (r *Restarts) Record(now time.Time) { r.At = append(r.At, now) }
