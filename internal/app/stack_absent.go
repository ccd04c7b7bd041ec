package app

import (
	"context"
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
	"github.com/incus-fleet/incus-fleet/internal/rollout"
)

func stackAbsent(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	p, c, exists, err := openStack(ctx, req)
	if err != nil {
		return protocol.Response{}, err
	}
	if !exists {
		return protocol.Response{Result: protocol.True(), Comment: fmt.Sprintf("stack %s is already absent", p.Name)}, nil
	}
	if !req.Test {
		lock, err := c.AcquireLock(ctx, p.Name, defaultLockWait)
		if err != nil {
			return protocol.Response{}, err
		}
		defer lock.Release() //nolint:errcheck // fails harmlessly once the project is gone
	}
	state, err := c.ReadState(ctx)
	if err != nil {
		return protocol.Response{}, err
	}
	plan := model.Plan{Stack: p.Name}
	for _, in := range instancesOf(state, p.Name) {
		plan.Steps = append(plan.Steps, model.Step{Op: model.OpDelete, Service: in.Service, Slot: in.Slot,
			Instance: in.Instance, Member: in.Member, Reason: "stack absent"})
	}
	changes := planChanges(plan)
	changes["project "+p.Name] = protocol.Change{Old: p.Name}
	resp := protocol.Response{Changes: changes}
	resp.Set("plan", plan)
	if req.Test {
		resp.Comment = fmt.Sprintf("stack %s would be removed (%d instances and its project)", p.Name, len(plan.Steps))
		return resp, nil
	}
	act := &stackActuator{client: c, stack: &model.Stack{Name: p.Name}}
	outcome, err := rollout.Execute(ctx, plan, &model.Stack{Name: p.Name}, act, rollout.Options{Progress: e.stderr})
	if err != nil {
		resp.Changes = planChanges(model.Plan{Stack: p.Name, Steps: outcome.Done})
		return resp, err
	}
	if err := c.DeleteProject(p.Name); err != nil {
		return resp, fmt.Errorf("instances removed but the project remains: %w", err)
	}
	resp.Result = protocol.True()
	resp.Comment = fmt.Sprintf("stack %s removed (%d instances and its project)", p.Name, len(plan.Steps))
	return resp, nil
}
