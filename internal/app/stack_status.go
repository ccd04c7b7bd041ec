package app

import (
	"context"
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

type stackNameParams struct {
	Name string `json:"name"`
}

func stackStatus(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	var p stackNameParams
	if err := protocol.DecodeParams(req, &p); err != nil {
		return protocol.Response{}, err
	}
	c, err := connect(ctx, req)
	if err != nil {
		return protocol.Response{}, err
	}
	exists, err := c.ProjectState(p.Name)
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
	running := 0
	for _, in := range insts {
		if in.State == "Running" {
			running++
		}
	}
	resp := protocol.Response{Result: protocol.True(),
		Comment: fmt.Sprintf("stack %s: %d of %d instances running", p.Name, running, len(insts))}
	resp.Set("stack", p.Name)
	resp.Set("instances", insts)
	return resp, nil
}
