package clusterhealth

import (
	"context"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Gather reads the report's input: members with roles and messages, the
// server settings, each storage pool on each online member (one request
// per pool and member), and the instances already read into state.
func Gather(ctx context.Context, c *incus.Client, state *model.ClusterState) (Input, error) {
	in := Input{Instances: state.Instances}
	members, err := c.ClusterMembers(ctx)
	if err != nil {
		return Input{}, err
	}
	for _, m := range members {
		in.Members = append(in.Members, Member{Name: m.Name, Status: m.Status, Message: m.Message,
			Roles: append([]string{}, m.Roles...), FailureDomain: m.FailureDomain})
	}
	if in.Settings, err = c.ServerSettings(ctx); err != nil {
		return Input{}, err
	}
	pools, err := c.StoragePools().List(ctx)
	if err != nil {
		return Input{}, err
	}
	for _, p := range pools {
		pool := Pool{Name: p.Name, Driver: p.Type, Status: p.Status, ByMember: map[string]string{}}
		if len(members) == 0 {
			pool.ByMember[c.ServerName()] = p.Status
		}
		for _, m := range members {
			pool.ByMember[m.Name] = poolStateOn(ctx, c, p.Name, m)
		}
		in.Pools = append(in.Pools, pool)
	}
	return in, nil
}

// poolStateOn asks member itself (Incus forwards ?target=) for its local
// state of the pool. An offline member cannot answer.
func poolStateOn(ctx context.Context, c *incus.Client, pool string, m incus.MemberHealth) string {
	if m.Status == model.StatusOffline {
		return "unreachable (member offline)"
	}
	rec, found, err := c.StoragePools().Get(ctx, pool, m.Name)
	switch {
	case err != nil:
		return "unreachable (" + err.Error() + ")"
	case !found:
		return "missing"
	}
	return rec.Status
}
