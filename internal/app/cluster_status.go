package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/clusterhealth"
	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// statusMember is a member as cluster.status shows it: the snapshot's
// fields plus Incus's status message.
type statusMember struct {
	model.Member
	Message string `json:"message"`
}

// clusterStatus reports members, the database roles against
// cluster.max_voters/max_standby, each storage pool per member, instances
// per member by stack, and health warnings (internal/clusterhealth).
func clusterStatus(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	c, err := connect(ctx, req)
	if err != nil {
		return protocol.Response{}, err
	}
	state, err := c.ReadState(ctx)
	if err != nil {
		return protocol.Response{}, err
	}
	in, err := clusterhealth.Gather(ctx, c, state)
	if err != nil {
		return protocol.Response{}, err
	}
	report := clusterhealth.Build(in)
	messages := map[string]string{}
	for _, m := range in.Members {
		messages[m.Name] = m.Message
	}
	members := make([]statusMember, 0, len(state.Members))
	online := 0
	for _, m := range state.Members {
		if m.Online() {
			online++
		}
		members = append(members, statusMember{Member: m, Message: messages[m.Name]})
	}
	resp := protocol.Response{Result: protocol.True(), Warnings: report.Warnings,
		Comment: fmt.Sprintf("%d of %d members online", online, len(state.Members))}
	if n := len(report.Warnings); n > 0 {
		resp.Comment += fmt.Sprintf("; %d warning(s): %s", n, strings.Join(report.Warnings, "; "))
	}
	resp.Set("members", members)
	resp.Set("database", report.Database)
	resp.Set("storage_pools", report.StoragePools)
	resp.Set("instances", report.Instances)
	resp.Set("healthy", report.Healthy)
	return resp, nil
}

func clusterSnapshot(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	c, err := connect(ctx, req)
	if err != nil {
		return protocol.Response{}, err
	}
	state, err := c.ReadState(ctx)
	if err != nil {
		return protocol.Response{}, err
	}
	// Networks only matter offline (external networks): read them for the
	// snapshot, not on every deploy.
	if state.Networks, err = c.NetworkStates(ctx); err != nil {
		return protocol.Response{}, err
	}
	resp := protocol.Response{Result: protocol.True(),
		Comment: fmt.Sprintf("snapshot of %d members and %d instances", len(state.Members), len(state.Instances))}
	resp.Set("snapshot", state)
	return resp, nil
}

func readState(ctx context.Context, req *protocol.Request) (*model.ClusterState, error) {
	c, err := connect(ctx, req)
	if err != nil {
		return nil, err
	}
	return c.ReadState(ctx)
}
