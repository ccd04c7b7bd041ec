package app

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/maintenance"
	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// errMaintenanceRefused marks a failed maintenance check (code conflict).
var errMaintenanceRefused = errors.New("maintenance check refused")

// clusterMemberMaintenanceCheck answers whether evacuating a member now
// keeps every stack's services at or above what their deploy section
// allows (internal/maintenance). It changes nothing, in test mode or not.
func clusterMemberMaintenanceCheck(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	var p memberStateParams
	c, err := decodeAndConnect(ctx, req, &p)
	if err != nil {
		return protocol.Response{}, err
	}
	res, err := maintenanceCheck(ctx, c, p.Name)
	resp := protocol.Response{Result: protocol.True(), Changes: map[string]protocol.Change{}}
	resp.Set("member", p.Name)
	if err != nil && res == nil {
		return resp, err
	}
	resp.Warnings = res.Warnings
	resp.Set("ok", res.OK)
	resp.Set("services", res.Services)
	if err != nil {
		return resp, err
	}
	resp.Comment = fmt.Sprintf("%s can be evacuated: every service keeps the running replicas its deploy section requires (%d service(s) checked)",
		p.Name, len(res.Services))
	return resp, nil
}

// maintenanceCheck runs the check; a refusal comes back with the result
// (for the per-service figures) and a conflict error carrying the reasons.
func maintenanceCheck(ctx context.Context, c *incus.Client, name string) (*maintenance.Result, error) {
	state, err := c.ReadState(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(state.Members, func(m model.Member) bool { return m.Name == name }) || !c.Clustered() {
		return nil, fmt.Errorf("no cluster member named %s here (is connection.socket a member of that cluster?): %w", name, incus.ErrNotFound)
	}
	members, services, err := maintenance.Gather(ctx, c, state)
	if err != nil {
		return nil, err
	}
	res := maintenance.Check(name, members, services)
	if !res.OK {
		return &res, fmt.Errorf("%s: %w: %w", res.Refusal(), errMaintenanceRefused, incus.ErrConflict)
	}
	return &res, nil
}
