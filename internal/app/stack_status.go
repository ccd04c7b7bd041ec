package app

import (
	"context"
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

func stackStatus(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	p, c, exists, err := openStack(ctx, req)
	if err != nil {
		return protocol.Response{}, err
	}
	if !exists {
		return protocol.Response{}, fmt.Errorf("stack %q is not deployed (no Incus project %q); deploy it with stack.present: %w", p.Name, p.Name, incus.ErrNotFound)
	}
	state, err := c.ReadState(ctx)
	if err != nil {
		return protocol.Response{}, err
	}
	insts := instancesOf(state, p.Name)
	spec, err := recordedDeployLabels(c, p.Name, insts)
	if err != nil {
		return protocol.Response{}, err
	}
	insts = withHiddenSlots(insts, state, p.Name, spec) // stack_status_slots.go
	resp := protocol.Response{Result: protocol.True(), Comment: statusSummary(p.Name, insts)}
	resp.Set("stack", p.Name)
	resp.Set("instances", insts)
	// Which bundle runs (stack_bundle.go); absent for compose input.
	if b, err := recordedBundle(c, p.Name); err != nil {
		return protocol.Response{}, err
	} else if b != "" {
		resp.Set("bundle", b)
	}
	return resp, nil
}
