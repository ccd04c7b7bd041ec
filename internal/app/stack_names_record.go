package app

import (
	"context"
	"fmt"
	"slices"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/names"
)

// The names record (names.Record, the stack's user.fleet.names): what each
// running instance's /etc/hosts holds, written at the end of every run and
// compared on every no-op, so names are repaired when the running set moved
// under them without any run changing an instance.

// finish publishes everything that runs, before the run returns, and
// records what each running instance now holds (names.Record), so the next
// run, even one that changes no instance, sees when the running set has
// moved under the names.
func (n *nameSync) finish(ctx context.Context) []string {
	n.mu.Lock()
	n.fresh = map[string]bool{}
	n.leaving = map[string]bool{} // the refreshed list is the truth now
	n.mu.Unlock()
	n.sync(ctx, true)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.loaded {
		rec := names.Record{}
		for inst := range n.all {
			if d, ok := n.written[inst]; ok {
				rec[inst] = d
			}
		}
		if enc := rec.Encode(); enc != n.recorded {
			if err := n.client.WriteNames(ctx, n.stack.Name, enc); err != nil {
				n.warnings = append(n.warnings, fmt.Sprintf("stack %s: %v", n.stack.Name, err))
			}
		}
	}
	out := slices.Clone(n.warnings)
	slices.Sort(out) // written concurrently; output is byte-stable
	return slices.Compact(out)
}

// namesCover reports whether the stack's names were last written for the
// instances that run now and are not unhealthy (stack_names.go); when they
// were not (a member lost, an instance stopped or deleted outside a run, a
// replica the watch found unhealthy or healthy again), the run goes on to
// repair them even though no instance changes. A stack without names has
// no record and nothing to repair.
func namesCover(rec incus.StackRecord, state *model.ClusterState, stack string) bool {
	if rec.Names == "" || state == nil {
		return true
	}
	var running []string
	for _, in := range state.Instances {
		if in.Project == stack && in.Status == "Running" && in.Config[model.KeyStack] == stack && in.Config[model.KeyService] != "" && !in.Unhealthy() {
			running = append(running, in.Name)
		}
	}
	return names.DecodeRecord(rec.Names).Covers(running)
}
