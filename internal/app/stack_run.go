package app

import (
	"context"
	"fmt"
	"io"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
	"github.com/incus-fleet/incus-fleet/internal/rollout"
)

// lockStack takes a stack's lock for a run that changes it (not for a dry
// run: test is true) and returns what releases it; a failed release is a
// warning on stderr, since the run itself is done by then.
func lockStack(ctx context.Context, c *incus.Client, stack string, test bool, stderr io.Writer) (release func(), err error) {
	if test {
		return func() {}, nil
	}
	lock, err := c.AcquireLock(ctx, stack, defaultLockWait)
	if err != nil {
		return nil, err
	}
	return func() {
		if err := lock.Release(); err != nil {
			fmt.Fprintf(stderr, "warning: could not release the lock of stack %s: %v\n", stack, err)
		}
	}, nil
}

// planResponse is the answer of a run that planned outside stack.present
// (rollback, scale) before it executes: the plan and its warnings. With
// test set it is the whole answer (a dry run): true when nothing would
// change, null when something would.
func planResponse(plan model.Plan, warnings []string, test bool) (resp protocol.Response, dryRun bool) {
	resp = protocol.Response{Warnings: warnings, Changes: planChanges(plan)}
	resp.Set("plan", plan)
	if !test {
		return resp, false
	}
	resp.Result = protocol.True()
	if plan.Changes() {
		resp.Result = nil
	}
	resp.Comment = summarise(plan, true)
	return resp, true
}

// withOutcome puts what a run did into its answer: the steps done (also
// when it failed part way) and the warnings they raised.
func withOutcome(resp *protocol.Response, stack string, outcome rollout.Outcome) {
	resp.Changes = planChanges(model.Plan{Stack: stack, Steps: outcome.Done})
	resp.Warnings = append(resp.Warnings, outcome.Warnings...)
}
