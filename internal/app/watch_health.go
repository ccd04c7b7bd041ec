package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/health"
	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Continuous health: while `stack watch` runs, every replica's Compose
// healthcheck runs the way Docker runs it (internal/health decides). A
// transition to healthy or unhealthy is recorded on the instance
// (model.KeyHealth, with the probe's output), never every probe. An
// unhealthy replica leaves the names at once (the next reconcile sees the
// names no longer cover the replicas that should be in them and rewrites
// them), is restarted as its restart_policy allows (condition, delay,
// max_attempts, window), and rejoins the names only once its check passes.

// healthTick is how often the loop looks for probes that are due (probes
// themselves follow each check's interval); the replica list, one request,
// is read again only every listRefresh.
const (
	healthTick  = 250 * time.Millisecond
	listRefresh = 2 * time.Second
)

// specRefresh is how often the loop re-reads the deployed spec (the
// checks and restart policies it runs).
const specRefresh = 10 * time.Second

type healthWatch struct {
	w        *watcher
	client   *incus.Client
	spec     *model.Stack
	specRead time.Time
	listed   []incus.Replica
	listRead time.Time
	replicas map[string]*health.Replica  // by instance
	restarts map[string]*health.Restarts // by instance
	since    map[string]time.Time        // unhealthy since, by instance
	gaveUp   map[string]bool
}

// watchHealth runs until ctx ends.
func (w *watcher) watchHealth(ctx context.Context) {
	h := &healthWatch{w: w, replicas: map[string]*health.Replica{}, restarts: map[string]*health.Restarts{},
		since: map[string]time.Time{}, gaveUp: map[string]bool{}}
	t := time.NewTicker(healthTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.round(ctx)
		}
	}
}

// round probes every replica that is due and acts on transitions.
func (h *healthWatch) round(ctx context.Context) {
	if h.client == nil {
		c, err := connect(ctx, &h.w.req)
		if err != nil {
			return // the event listener reports connection trouble
		}
		h.client = c
	}
	now := time.Now()
	if h.spec == nil || now.Sub(h.specRead) > specRefresh {
		rec, err := h.client.ReadRecord(h.w.stack)
		if err != nil || rec.Current == "" {
			return
		}
		if h.spec, _, err = decodeSpec(h.w.stack, rec.Current); err != nil {
			return
		}
		h.specRead = now
	}
	if now.Sub(h.listRead) > listRefresh {
		reps, err := h.client.Replicas(ctx, h.w.stack)
		if err != nil {
			return
		}
		h.listed, h.listRead = reps, now
	}
	reps := h.listed
	exists := map[string]bool{}
	seen := map[string]bool{} // running, with a check to run
	var due []incus.Replica
	for _, r := range reps {
		exists[r.Name] = true
		svc := h.spec.Service(r.Service)
		if svc == nil || !r.Running {
			continue
		}
		if _, ok := health.CheckOf(svc.Healthcheck); !ok {
			continue
		}
		seen[r.Name] = true
		tr := h.replicas[r.Name]
		if tr == nil || !tr.Since.Equal(r.Started) {
			tr = health.NewReplica(r.Started) // new, or restarted since
			h.replicas[r.Name] = tr
		}
		if tr.Due(now) {
			due = append(due, r)
		}
	}
	for name := range h.replicas {
		if !exists[name] { // gone (a restart keeps it, and its history)
			delete(h.replicas, name)
			delete(h.restarts, name)
			delete(h.since, name)
			delete(h.gaveUp, name)
		}
	}
	h.probe(ctx, due)
	for _, r := range reps {
		if seen[r.Name] {
			h.act(ctx, r, now)
		}
	}
}

// probe runs the due checks side by side (bounded) and records each result.
func (h *healthWatch) probe(ctx context.Context, due []incus.Replica) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	sem := make(chan struct{}, 8)
	for _, r := range due {
		svc := h.spec.Service(r.Service)
		check, _ := health.CheckOf(svc.Healthcheck)
		argv, err := incus.HealthcheckArgv(svc.Healthcheck.Test)
		if err != nil || argv == nil {
			continue
		}
		tr := h.replicas[r.Name]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			res, err := h.client.ExecOutput(ctx, h.w.stack, r.Name, argv, check.Timeout)
			ok := err == nil && res.Code == 0
			out := strings.TrimSpace(res.Stdout + res.Stderr)
			if out == "" && res.Code > 0 {
				out = fmt.Sprintf("exit code %d", res.Code) // a silent check still says why
			}
			if err != nil {
				out = err.Error()
			} else if res.Code == -1 {
				out = "timed out after " + check.Timeout.String()
			}
			mu.Lock()
			tr.Observe(check, time.Now(), ok, out)
			mu.Unlock()
		}()
	}
	wg.Wait()
}

// act records a replica's transition, kicks a reconcile for the names and
// restarts an unhealthy replica as its restart_policy allows.
func (h *healthWatch) act(ctx context.Context, r incus.Replica, now time.Time) {
	tr := h.replicas[r.Name]
	if (tr.State == health.Healthy || tr.State == health.Unhealthy) && tr.State != r.Health {
		if err := h.client.RecordHealth(ctx, h.w.stack, r.Name, tr.State, tr.Output); err != nil {
			h.w.logf("health: %v", err)
			return
		}
		h.w.logf("health: %s is %s (%s)", r.Name, tr.State, firstLine(tr.Output))
		if tr.State == health.Unhealthy || r.Health == health.Unhealthy {
			h.w.kicks.kick("replica " + r.Name + " " + tr.State) // the names follow
		}
		r.Health = tr.State
		h.listRead = time.Time{} // read the recorded state back next round
	}
	if r.Health != health.Unhealthy {
		delete(h.since, r.Name)
		delete(h.gaveUp, r.Name)
		return
	}
	if tr.State != health.Unhealthy {
		return // restarted and starting again: it stays out of the names until healthy
	}
	if _, ok := h.since[r.Name]; !ok {
		h.since[r.Name] = now
	}
	svc := h.spec.Service(r.Service)
	rs := h.restarts[r.Name]
	if rs == nil {
		rs = &health.Restarts{}
		h.restarts[r.Name] = rs
	}
	d := rs.Decide(svc.Deploy.RestartPolicy, h.since[r.Name], now)
	switch {
	case d.GiveUp:
		if !h.gaveUp[r.Name] {
			h.gaveUp[r.Name] = true
			h.w.logf("health: %s stays unhealthy: its restart_policy allows no more restarts (condition %s, max_attempts %d)",
				r.Name, svc.Deploy.RestartPolicy.Condition, svc.Deploy.RestartPolicy.MaxAttempts)
		}
	case d.Restart:
		rs.Record(now)
		delete(h.since, r.Name)
		if err := h.client.Restart(ctx, h.w.stack, r.Name); err != nil {
			h.w.logf("health: restart %s: %v", r.Name, err)
			return
		}
		h.w.logf("health: restarted %s (restart %d)", r.Name, len(rs.At))
		h.listRead = time.Time{}
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
