package app

import (
	"context"
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/planner"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// stackRollback returns a stack to what ran before its last update: the
// spec that was current when an unfinished update (paused, failed, killed,
// or half rolled back) began, which is also the target of automatic
// rollbacks; with no update under way, the previous deployed spec, and
// afterwards the two recorded specs have swapped places, so a second
// rollback returns to where the first started. It rolls with
// rollback_config, and only after checking that every image it needs can
// be had (stack_rollback_images.go).
func stackRollback(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	p, c, exists, err := openStack(ctx, req)
	if err != nil {
		return protocol.Response{}, err
	}
	if !exists {
		return protocol.Response{}, fmt.Errorf("stack %q is not deployed; nothing to roll back: %w", p.Name, incus.ErrNotFound)
	}
	release, err := lockStack(ctx, c, p.Name, req.Test, e.stderr) // stack_run.go
	if err != nil {
		return protocol.Response{}, err
	}
	defer release()
	rec, err := c.ReadRecord(p.Name)
	if err != nil {
		return protocol.Response{}, err
	}
	upd, err := readUpdate(p.Name, rec)
	if err != nil {
		return protocol.Response{}, err
	}
	target := rec.Previous
	if upd != nil && upd.From != "" {
		target = upd.From
	} else {
		upd = nil // an update of a first deploy has nothing before it
	}
	if target == "" {
		return protocol.Response{}, fmt.Errorf("stack %q has no previous deployed spec to roll back to (it was deployed once, or rolled back already to its first spec): %w", p.Name, incus.ErrNotFound)
	}
	stack, images, err := decodeSpec(p.Name, target)
	if err != nil {
		return protocol.Response{}, err
	}
	if images, err = rollbackImages(ctx, c, stack, images); err != nil {
		return protocol.Response{}, err
	}
	state, err := c.ReadState(ctx)
	if err != nil {
		return protocol.Response{}, err
	}
	// The record holds where the secrets go, not what they hold: the
	// instances running now hold the content a deploy pushed.
	secrets := &secretSource{client: c, current: decodeSecretRefs(rec.Current), state: state, stack: p.Name}
	secrets.fill(ctx, stack, decodeSecretRefs(target))
	rollback := withRollbackConfig(stack)
	plan, res, err := planner.Plan(rollback, state, planner.Options{ImageFingerprints: fingerprintsOf(images)})
	if err != nil {
		return protocol.Response{}, err
	}
	resp, dryRun := planResponse(plan, append(res.Warnings, secrets.warnings...), req.Test)
	if dryRun {
		return resp, nil
	}
	outcome, err := execute(ctx, c, state, rollback, images, plan, e.stderr, "rollback")
	withOutcome(&resp, p.Name, outcome)
	if err != nil {
		if upd != nil {
			// Half rolled back: the next stack.rollback aims at the same spec.
			upd.State = updateRollbackFailed
			rec.Update = upd.encode()
			if werr := c.WriteRecord(p.Name, &rec); werr != nil {
				return resp, fmt.Errorf("%w (and recording the failed rollback failed: %v)", err, werr)
			}
		}
		return resp, err
	}
	if upd != nil {
		// The update never became current: its spec is dropped, what ran
		// before it is current again.
		rec.Current, rec.Update = upd.From, ""
	} else {
		rec.Current, rec.Previous = rec.Previous, rec.Current
	}
	if err := c.WriteRecord(p.Name, &rec); err != nil {
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
