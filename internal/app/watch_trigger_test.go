package app

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/incus"
)

func TestEventReason(t *testing.T) {
	cases := []struct {
		ev     incus.Event
		reason string
	}{
		{incus.Event{Action: "cluster-member-added", Source: "/1.0/cluster/members/node4", Project: "default"}, "cluster-member-added node4"},
		{incus.Event{Action: "cluster-member-evacuated", Name: "node2"}, "cluster-member-evacuated node2"},
		{incus.Event{Action: "cluster-member-updated", Source: "/1.0/cluster/members/node1"}, "cluster-member-updated node1"},
		{incus.Event{Action: "cluster-member-removed", Source: "/1.0/cluster/members/node4"}, "cluster-member-removed node4"},
		{incus.Event{Action: "instance-deleted", Name: "web-2", Project: "shop"}, "instance-deleted web-2"},
		{incus.Event{Action: "instance-stopped", Source: "/1.0/instances/web-1?project=shop", Name: "web-1", Project: "shop"}, "instance-stopped web-1"},
		{incus.Event{Action: "instance-deleted", Name: "web-2", Project: "other"}, ""}, // another stack
		{incus.Event{Action: "instance-started", Name: "web-2", Project: "shop"}, ""},
		{incus.Event{Action: "cluster-token-created", Source: "/1.0/cluster/members"}, ""},
		{incus.Event{Action: "image-created"}, ""},
	}
	for _, c := range cases {
		got, ok := eventReason(c.ev, "shop")
		if got != c.reason || ok != (c.reason != "") {
			t.Errorf("%+v: got %q %v, want %q", c.ev, got, ok, c.reason)
		}
	}
}

func TestMemberChanges(t *testing.T) {
	before := map[string]string{"node1": "Online", "node2": "Online", "node3": "Online"}
	after := map[string]string{"node1": "Online", "node2": "Offline", "node4": "Online"}
	want := []string{"member node2 Online -> Offline", "member node3 disappeared", "member node4 appeared (Online)"}
	if got := memberChanges(before, after); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := memberChanges(before, before); len(got) != 0 {
		t.Fatalf("no change reported %q", got)
	}
}

// TestKickerSettles: a burst of kicks is one wake-up carrying every
// distinct reason once, and settle waits for the quiet period.
func TestKickerSettles(t *testing.T) {
	k := newKicker()
	for _, r := range []string{"a", "b", "a", "c"} {
		k.kick(r)
	}
	select {
	case <-k.ch:
	default:
		t.Fatal("no wake-up")
	}
	go func() {
		time.Sleep(30 * time.Millisecond)
		k.kick("d") // arrives during the quiet period: extends it
	}()
	start := time.Now()
	// A quiet period far longer than the kick's delay, so a loaded machine
	// cannot schedule the kick after the period ended.
	if !k.settle(context.Background(), 300*time.Millisecond, 2*time.Second) {
		t.Fatal("settle gave up")
	}
	if took := time.Since(start); took < 325*time.Millisecond {
		t.Errorf("settle returned after %s; a kick at 30ms should extend the 300ms quiet period", took)
	}
	if got := k.take(); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("reasons %q", got)
	}
	if got := k.take(); len(got) != 0 {
		t.Fatalf("take did not clear: %q", got)
	}

	// A steady stream cannot postpone the reconcile past maxWait.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				k.kick("storm")
			}
		}
	}()
	start = time.Now()
	k.settle(context.Background(), 50*time.Millisecond, 150*time.Millisecond)
	if took := time.Since(start); took > 400*time.Millisecond {
		t.Errorf("settle took %s under a steady stream, want about maxWait (150ms)", took)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if k.settle(ctx, time.Second, time.Second) {
		t.Fatal("settle ignored a cancelled context")
	}
}

func TestDescribe(t *testing.T) {
	if got := describe([]string{"a", "b"}); got != "a, b" {
		t.Errorf("got %q", got)
	}
	if got := describe([]string{"a", "b", "c", "d", "e"}); got != "a, b, c and 2 more" {
		t.Errorf("got %q", got)
	}
}

// TestGraceContext: a reconcile's context outlives a stop signal by the
// grace period, no more.
func TestGraceContext(t *testing.T) {
	parent, stop := context.WithCancel(context.Background())
	ctx, cancel := graceContext(parent, 50*time.Millisecond)
	defer cancel()
	stop()
	select {
	case <-ctx.Done():
		t.Fatal("cancelled at once; the grace period was ignored")
	case <-time.After(20 * time.Millisecond):
	}
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
		t.Fatal("still running long after the grace period")
	}
}
