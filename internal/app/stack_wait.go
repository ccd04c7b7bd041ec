package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/planner"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// `stack up --wait-timeout` (params.wait_timeout): after the apply, wait
// until every replica the stack wants runs and, where its service has a
// healthcheck, passes it, as `docker compose up --wait` does.
//
// The check runs through the same probe as the update gate (the service's
// healthcheck.test run in the instance with its timeout), not by reading
// the health `stack watch` records (model.KeyHealth): that key is written
// only while a watch runs, and only on a transition, so a `stack up`
// without a watch would never see a replica become healthy.

// waitPoll is the pause between two looks at the stack.
const waitPoll = time.Second

// notReady is one replica (or missing slot) the wait still waits for.
type notReady struct {
	what   string // "web.2 (web-2 on node1)"
	state  string // Running, Stopped, missing, …
	output string // the last probe's output, if a probe ran
}

func (n notReady) String() string {
	s := n.what + ": " + n.state
	if n.output != "" {
		s += " (last probe: " + firstLine(n.output) + ")"
	}
	return s
}

func waitTimeout(seconds *float64) time.Duration {
	if seconds == nil {
		return 0
	}
	return time.Duration(*seconds * float64(time.Second))
}

// waitReady polls until the stack is ready or the timeout passes; then it
// fails with a timeout error naming, in a stable order, what is not ready.
func (d *deployment) waitReady(ctx context.Context, req *protocol.Request, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	passed := map[string]bool{} // instances whose check passed once
	for {
		pending, err := d.readiness(ctx, req, passed, deadline)
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			return nil
		}
		if !time.Now().Before(deadline) {
			lines := make([]string, len(pending))
			details := make([]protocol.Detail, len(pending))
			for i, n := range pending {
				lines[i] = n.String()
				details[i] = protocol.Detail{Field: n.what, Message: strings.TrimPrefix(n.String(), n.what+": ")}
			}
			e := protocol.Errorf(protocol.CodeTimeout, "stack %s is not ready after %s (--wait-timeout / wait_timeout): %s; "+
				"see `incus-fleet stack ps` and `stack logs`, or give it longer", d.stack.Name, timeout, strings.Join(lines, "; "))
			e.Details = details
			return e
		}
		if err := sleepCtx(ctx, min(waitPoll, time.Until(deadline))); err != nil {
			return err
		}
	}
}

// readiness reads the cluster once and returns what is not ready yet,
// sorted: slots the planner would still change, replicas not running, and
// running replicas whose healthcheck has not passed.
func (d *deployment) readiness(ctx context.Context, req *protocol.Request, passed map[string]bool, deadline time.Time) ([]notReady, error) {
	if err := d.readCluster(ctx, req); err != nil {
		return nil, err
	}
	p := d.params
	plan, _, err := planner.Plan(d.stack, d.state, planner.Options{
		Services: p.Services, ImageFingerprints: d.fingerprints(),
		MoveVolumes: p.MoveVolumes, PruneVolumes: p.PruneVolumes, FailoverSharedVolumes: p.FailoverShared,
	})
	if err != nil {
		return nil, err
	}
	var out []notReady
	for _, s := range plan.Steps {
		if s.Op == model.OpKeep || s.Instance == "" { // volume steps: the slots they serve are listed too
			continue
		}
		out = append(out, notReady{what: fmt.Sprintf("%s.%d (%s)", s.Service, s.Slot, s.Instance),
			state: "not in place (the planner would " + s.Op + cond(s.Reason != "", ": "+s.Reason, "") + ")"})
	}
	for _, in := range instancesOf(d.state, d.stack.Name) {
		svc := d.stack.Service(in.Service)
		if svc == nil || (len(p.Services) > 0 && !slices.Contains(p.Services, in.Service)) {
			continue
		}
		what := fmt.Sprintf("%s.%d (%s on %s)", in.Service, in.Slot, in.Instance, in.Member)
		if in.State != "Running" {
			delete(passed, in.Instance)
			out = append(out, notReady{what: what, state: in.State})
			continue
		}
		hc := svc.Healthcheck
		if hc == nil || hc.Disabled || len(hc.Test) == 0 || passed[in.Instance] {
			continue
		}
		ok, output, err := d.probe(ctx, in.Instance, hc, deadline)
		if err != nil {
			return nil, err
		}
		if ok {
			passed[in.Instance] = true
			continue
		}
		out = append(out, notReady{what: what, state: "running, healthcheck not passing", output: output})
	}
	slices.SortFunc(out, func(a, b notReady) int { return strings.Compare(a.what, b.what) })
	return out, nil
}

// probe runs a healthcheck once in the instance, as the update gate does
// (the command and timeout of rollout's gate), keeping its output to say
// why it fails. A probe never runs past the wait's deadline.
func (d *deployment) probe(ctx context.Context, instance string, hc *model.Healthcheck, deadline time.Time) (bool, string, error) {
	argv, err := incus.HealthcheckArgv(hc.Test)
	if err != nil || argv == nil {
		return argv == nil && err == nil, "", err
	}
	timeout := hc.Timeout
	if left := time.Until(deadline); timeout <= 0 || timeout > left {
		timeout = max(left, time.Second)
	}
	res, err := d.client.ExecOutput(ctx, d.stack.Name, instance, argv, timeout)
	if err != nil {
		if incus.ClusterFault(ctx, err) {
			return false, "", err
		}
		return false, err.Error(), nil // could not run in the instance: a failed probe
	}
	out := strings.TrimSpace(res.Stdout + res.Stderr)
	switch {
	case res.Code == -1:
		out = "timed out after " + timeout.String()
	case res.Code != 0 && out == "":
		out = fmt.Sprintf("exit code %d", res.Code)
	}
	return res.Code == 0, out, nil
}

func cond(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(max(d, 0))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitTimeoutFlag is `stack up --wait-timeout`.
var waitTimeoutFlag = &cli.DurationFlag{Name: "wait-timeout", Usage: "after deploying, wait up to `DURATION` for every replica to run and pass its healthcheck; fail with a timeout error naming what is not ready", DefaultText: "no wait"}

// waitParam maps --wait-timeout to params.wait_timeout (seconds).
func waitParam(c *cli.Context, params map[string]any) {
	if c.IsSet("wait-timeout") {
		params["wait_timeout"] = c.Duration("wait-timeout").Seconds()
	}
}
