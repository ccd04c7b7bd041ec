package health

import (
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestCheckDefaultsAreDockers(t *testing.T) {
	c, ok := CheckOf(&model.Healthcheck{Test: []string{"CMD", "true"}})
	if !ok || c.Interval != 30*time.Second || c.Timeout != 30*time.Second || c.Retries != 3 || c.StartInterval != 5*time.Second {
		t.Errorf("defaults: %+v %v", c, ok)
	}
	for _, h := range []*model.Healthcheck{nil, {Disabled: true, Test: []string{"CMD", "true"}}, {Test: []string{"NONE"}}, {}} {
		if _, ok := CheckOf(h); ok {
			t.Errorf("%+v has nothing to run", h)
		}
	}
}

// Retries failures in a row make a replica unhealthy; a pass in between
// resets the count.
func TestRetriesInARowMakeUnhealthy(t *testing.T) {
	c := Check{Interval: time.Second, Retries: 3, StartInterval: time.Second}
	r := NewReplica(t0)
	now := t0
	step := func(ok bool) string {
		now = now.Add(time.Second)
		r.Observe(c, now, ok, "")
		return r.State
	}
	if s := step(true); s != Healthy {
		t.Fatalf("after a pass: %s", s)
	}
	step(false)
	step(false)
	if s := step(true); s != Healthy || r.Failures != 0 {
		t.Fatalf("a pass resets: %s %d", s, r.Failures)
	}
	step(false)
	step(false)
	if r.State != Healthy {
		t.Fatalf("2 of 3 failures: %s", r.State)
	}
	if before := r.State; step(false) != Unhealthy || before != Healthy {
		t.Fatalf("3rd failure in a row: %s", r.State)
	}
	if step(true) != Healthy {
		t.Fatalf("a pass heals: %s", r.State)
	}
}

// During start_period failures do not count and probes come every
// start_interval; the first pass ends the start period.
func TestStartPeriod(t *testing.T) {
	c := Check{Interval: 10 * time.Second, Retries: 1, StartPeriod: 30 * time.Second, StartInterval: 2 * time.Second}
	r := NewReplica(t0)
	r.Observe(c, t0.Add(5*time.Second), false, "refused")
	if r.State != Starting || r.Failures != 0 || r.Next != t0.Add(7*time.Second) {
		t.Fatalf("failure in the start period: %+v", r)
	}
	r.Observe(c, t0.Add(31*time.Second), false, "refused")
	if r.State != Unhealthy {
		t.Fatalf("failure after the start period with retries 1: %+v", r)
	}
	r = NewReplica(t0)
	r.Observe(c, t0.Add(3*time.Second), true, "")
	r.Observe(c, t0.Add(4*time.Second), false, "")
	if r.State != Unhealthy || r.Next != t0.Add(14*time.Second) {
		t.Fatalf("a pass ends the start period: %+v", r)
	}
}

func TestRestartPolicy(t *testing.T) {
	var h Restarts
	if d := h.Decide(model.RestartPolicy{Condition: "none"}, t0, t0); !d.GiveUp {
		t.Errorf("condition none restarts: %+v", d)
	}
	p := model.RestartPolicy{Condition: "any", Delay: 5 * time.Second, MaxAttempts: 2, Window: time.Minute}
	if d := h.Decide(p, t0, t0.Add(2*time.Second)); d.Restart || d.Wait != 3*time.Second {
		t.Errorf("delay not waited: %+v", d)
	}
	if d := h.Decide(p, t0, t0.Add(5*time.Second)); !d.Restart {
		t.Errorf("after the delay: %+v", d)
	}
	h.Record(t0.Add(5 * time.Second))
	h.Record(t0.Add(20 * time.Second))
	if d := h.Decide(p, t0.Add(30*time.Second), t0.Add(40*time.Second)); !d.GiveUp {
		t.Errorf("max_attempts within the window: %+v", d)
	}
	// Out of the window, the old restarts no longer count.
	if d := h.Decide(p, t0.Add(90*time.Second), t0.Add(100*time.Second)); !d.Restart {
		t.Errorf("restarts out of the window still count: %+v", d)
	}
	if d := (&Restarts{At: []time.Time{t0, t0}}).Decide(model.RestartPolicy{Condition: "on-failure"}, t0, t0); !d.Restart {
		t.Errorf("max_attempts 0 is no limit: %+v", d)
	}
}
