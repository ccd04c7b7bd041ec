package app

import (
	"context"
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
	"github.com/incus-fleet/incus-fleet/internal/rollout"
)

type stackAbsentParams struct {
	Name string `json:"name"`
	// Volumes deletes the stack's volumes too (docker compose down -v);
	// without it they are kept, and so is the project that holds them.
	Volumes bool `json:"volumes"`
}

func stackAbsent(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	var p stackAbsentParams
	c, err := decodeAndConnect(ctx, req, &p)
	if err != nil {
		return protocol.Response{}, err
	}
	exists, err := c.ProjectState(p.Name)
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
			Instance: in.Instance, Member: in.Member, Reason: model.ReasonStackAbsent})
	}
	volSteps, kept := absentVolumes(state, p.Name, p.Volumes) // stack_absent_volumes.go
	plan.Steps = append(plan.Steps, volSteps...)
	if len(plan.Steps) == 0 && kept > 0 {
		return protocol.Response{Result: protocol.True(), Comment: fmt.Sprintf("stack %s has no instances; its %d volumes are kept (volumes: true deletes them)", p.Name, kept)}, nil
	}
	changes := planChanges(plan)
	if kept == 0 {
		changes["project "+p.Name] = protocol.Change{Old: p.Name}
	}
	resp := protocol.Response{Changes: changes}
	resp.Set("plan", plan)
	what := absentSummary(len(plan.Steps)-len(volSteps), len(volSteps), kept)
	if req.Test {
		resp.Comment = fmt.Sprintf("stack %s would be removed (%s)", p.Name, what)
		return resp, nil
	}
	act := &stackActuator{client: c, stack: &model.Stack{Name: p.Name}}
	outcome, err := rollout.Execute(ctx, plan, &model.Stack{Name: p.Name}, act, rollout.Options{Progress: e.stderr})
	if err == nil {
		var deleted []model.Step
		deleted, err = deleteVolumes(ctx, c, p.Name, plan) // stack_volumes.go
		outcome.Done = append(outcome.Done, deleted...)
	}
	if err != nil {
		resp.Changes = planChanges(model.Plan{Stack: p.Name, Steps: outcome.Done})
		return resp, err
	}
	if kept > 0 {
		if err := clearRecord(c, p.Name); err != nil {
			return resp, err
		}
	} else if err := c.DeleteProject(p.Name); err != nil {
		return resp, fmt.Errorf("instances removed but the project remains: %w", err)
	}
	// OVN networks incus-fleet created for the stack (network_resolve.go).
	nets, err := c.DeleteStackNetworks(ctx, p.Name)
	for _, n := range nets {
		resp.Changes["network "+n] = protocol.Change{Old: n}
	}
	if err != nil {
		return resp, err
	}
	resp.Result = protocol.True()
	resp.Comment = fmt.Sprintf("stack %s removed (%s)", p.Name, what)
	return resp, nil
}
