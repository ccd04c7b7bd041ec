package incus

import (
	"context"
	"sort"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// NetworkStates lists the networks of the default project for a cluster
// snapshot, in name order, so an offline plan can check external networks.
func (c *Client) NetworkStates(ctx context.Context) ([]model.NetworkState, error) {
	ns, err := c.listNetworks(ctx)
	if err != nil {
		return nil, classify(err, "list networks")
	}
	out := make([]model.NetworkState, 0, len(ns))
	for _, n := range ns {
		out = append(out, model.NetworkState{Name: n.Name, Type: n.Type, Managed: n.Managed})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
