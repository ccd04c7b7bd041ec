package app

import (
	"context"
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

func clusterStatus(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	state, err := readState(ctx, req)
	if err != nil {
		return protocol.Response{}, err
	}
	online := 0
	for _, m := range state.Members {
		if m.Online() {
			online++
		}
	}
	resp := protocol.Response{Result: protocol.True(),
		Comment: fmt.Sprintf("%d of %d members online", online, len(state.Members))}
	resp.Set("members", state.Members)
	return resp, nil
}

func clusterSnapshot(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	state, err := readState(ctx, req)
	if err != nil {
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
