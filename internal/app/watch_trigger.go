package app

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// memberActions are the lifecycle events after which a stack's placement
// may be wrong: a global service must follow a joining member, replicas on
// a removed or evacuated one must move, a label change may break a
// constraint.
var memberActions = []string{
	"cluster-member-added", "cluster-member-removed", "cluster-member-updated",
	"cluster-member-evacuated", "cluster-member-restored", "cluster-member-healed",
	"cluster-member-renamed",
}

// instanceActions are the events of the stack's own instances that may
// leave a slot without a running replica.
var instanceActions = []string{"instance-deleted", "instance-stopped", "instance-shutdown"}

// eventReason says whether an event should trigger a reconcile of the
// stack, and names it for the log.
func eventReason(ev incus.Event, stack string) (string, bool) {
	name := ev.Name
	if name == "" {
		name = path.Base(ev.Source)
	}
	switch {
	case slices.Contains(memberActions, ev.Action):
		return ev.Action + " " + name, true
	case slices.Contains(instanceActions, ev.Action) && ev.Project == stack:
		return ev.Action + " " + name, true
	}
	return "", false
}

// memberChanges compares two polls of member status (name → status). Incus
// emits no event when a member stops answering, so polling is how the
// watch notices a lost member once Incus marks it offline.
func memberChanges(before, after map[string]string) []string {
	var out []string
	for name, st := range after {
		switch old, ok := before[name]; {
		case !ok:
			out = append(out, fmt.Sprintf("member %s appeared (%s)", name, st))
		case old != st:
			out = append(out, fmt.Sprintf("member %s %s -> %s", name, old, st))
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			out = append(out, fmt.Sprintf("member %s disappeared", name))
		}
	}
	slices.Sort(out)
	return out
}

func statuses(members []model.Member) map[string]string {
	out := make(map[string]string, len(members))
	for _, m := range members {
		out[m.Name] = m.Status
	}
	return out
}

// kicker collects reconcile triggers from several goroutines. Reasons are
// kept (deduplicated, in arrival order) for the log; the channel only says
// "something happened", so a burst of events is one pending wake-up.
type kicker struct {
	mu      sync.Mutex
	reasons []string
	ch      chan struct{}
}

func newKicker() *kicker { return &kicker{ch: make(chan struct{}, 1)} }

func (k *kicker) kick(reason string) {
	k.mu.Lock()
	if !slices.Contains(k.reasons, reason) {
		k.reasons = append(k.reasons, reason)
	}
	k.mu.Unlock()
	select {
	case k.ch <- struct{}{}:
	default:
	}
}

// take returns and clears the pending reasons.
func (k *kicker) take() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := k.reasons
	k.reasons = nil
	return out
}

// settle waits until no kick came for quiet, or maxWait passed since the
// first one, so a member join (several events within a second) or a burst
// of instance deletions becomes one reconcile. It returns false when ctx
// ends first.
func (k *kicker) settle(ctx context.Context, quiet, maxWait time.Duration) bool {
	deadline := time.Now().Add(maxWait)
	for {
		wait := min(quiet, time.Until(deadline))
		if wait <= 0 {
			return true
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-k.ch:
			t.Stop()
		case <-t.C:
			return true
		}
	}
}

// describe shortens the reasons of one reconcile for its log line.
func describe(reasons []string) string {
	const max = 3
	if len(reasons) <= max {
		return strings.Join(reasons, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(reasons[:max], ", "), len(reasons)-max)
}

// graceContext is ctx for one reconcile: it outlives parent by grace, so a
// stop signal lets short Incus operations finish instead of abandoning an
// instance half-created (the next run would repair it, but need not).
func graceContext(parent context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	stop := context.AfterFunc(parent, func() { time.AfterFunc(grace, cancel) })
	return ctx, func() { stop(); cancel() }
}
