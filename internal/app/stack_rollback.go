package app

import (
	"context"
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/planner"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// stackRollback returns a stack to its previous deployed spec, rolling with
// rollback_config; afterwards the two recorded specs have swapped places, so
// a second rollback returns to where the first started.
func stackRollback(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	p, c, exists, err := openStack(ctx, req)
	if err != nil {
		return protocol.Response{}, err
	}
	if !exists {
		return protocol.Response{}, fmt.Errorf("stack %q is not deployed; nothing to roll back: %w", p.Name, incus.ErrNotFound)
	}
	if !req.Test {
		lock, err := c.AcquireLock(ctx, p.Name, defaultLockWait)
		if err != nil {
			return protocol.Response{}, err
		}
		defer func() {
			if err := lock.Release(); err != nil {
				fmt.Fprintf(e.stderr, "warning: could not release the lock of stack %s: %v\n", p.Name, err)
			}
		}()
	}
	rec, err := c.ReadRecord(p.Name)
	if err != nil {
		return protocol.Response{}, err
	}
	if rec.Previous == "" {
		return protocol.Response{}, fmt.Errorf("stack %q has no previous deployed spec to roll back to (it was deployed once, or rolled back already to its first spec): %w", p.Name, incus.ErrNotFound)
	}
	stack, images, err := decodeSpec(p.Name, rec.Previous)
	if err != nil {
		return protocol.Response{}, err
	}
	state, err := c.ReadState(ctx)
	if err != nil {
		return protocol.Response{}, err
	}
	rollback := withRollbackConfig(stack)
	plan, res, err := planner.Plan(rollback, state, planner.Options{ImageFingerprints: fingerprintsOf(images)})
	if err != nil {
		return protocol.Response{}, err
	}
	resp := protocol.Response{Warnings: res.Warnings, Changes: planChanges(plan)}
	resp.Set("plan", plan)
	if req.Test {
		resp.Result = protocol.True()
		if plan.Changes() {
			resp.Result = nil
		}
		resp.Comment = summarise(plan, true)
		return resp, nil
	}
	outcome, err := execute(ctx, c, state, rollback, images, plan, e.stderr)
	resp.Changes = planChanges(model.Plan{Stack: p.Name, Steps: outcome.Done})
	resp.Warnings = append(resp.Warnings, outcome.Warnings...)
	if err != nil {
		return resp, err
	}
	rec.Current, rec.Previous = rec.Previous, rec.Current
	if err := c.WriteRecord(p.Name, rec); err != nil {
		return resp, err
	}
	resp.Result = protocol.True()
	resp.Comment = "rolled back: " + summarise(plan, false)
	return resp, nil
}

func fingerprintsOf(images map[string]incus.Image) map[string]string {
	out := map[string]string{}
	for svc, img := range images {
		out[svc] = img.Fingerprint
	}
	return out
}
