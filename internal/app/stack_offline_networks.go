package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// checkSnapshotNetworks is the offline counterpart of the external-network
// check a deploy makes against Incus (incus.ResolveNetworks): every Incus
// network the stack selects with external/name must be in the snapshot.
// All missing ones are named at once, in Compose key order.
func checkSnapshotNetworks(stack *model.Stack, state *model.ClusterState) error {
	var missing []string
	for _, n := range stack.Networks {
		if n.Existing == "" {
			continue
		}
		if !slices.ContainsFunc(state.Networks, func(s model.NetworkState) bool { return s.Name == n.Existing }) {
			missing = append(missing, fmt.Sprintf("network %q selects the Incus network %q (external/name)", n.Name, n.Existing))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	have := make([]string, 0, len(state.Networks))
	for _, s := range state.Networks {
		have = append(have, s.Name)
	}
	slices.Sort(have)
	listed := "the snapshot lists no networks; take it with cluster.snapshot, which lists them"
	if len(have) > 0 {
		listed = "the snapshot has: " + strings.Join(have, ", ")
	}
	return fmt.Errorf("%s, which the cluster snapshot does not have (%s); create it (incus network create ...) and take the snapshot again, or drop external/name to let incus-fleet provide the network: %w",
		strings.Join(missing, "; "), listed, incus.ErrNotFound)
}
