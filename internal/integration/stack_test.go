package integration

import (
	"strings"
	"testing"
)

// TestStackLifecycle is the foundation's acceptance: deploy 3 replicas (one
// per member), scale to 5 and to 2, a no-op re-apply, and a clean removal.
func TestStackLifecycle(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-lifecycle"
	cleanup(t, stack)

	// Dry run first: a plan, result null, nothing created.
	r := call(t, "stack.present", true, map[string]any{"name": stack, "compose_yaml": composeWeb(3)}).mustSucceed(t)
	if r.Result != nil || len(r.Plan.Steps) != 3 || len(r.Changes) != 3 {
		t.Fatalf("dry run: result %v, %d steps, %d changes: %s", r.Result, len(r.Plan.Steps), len(r.Changes), r.Raw)
	}
	if projectExists(t, srv, stack) {
		t.Fatal("dry run created the project")
	}

	r = call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": composeWeb(3)}).mustSucceed(t)
	got := placement(t, srv, stack)
	if names(got) != "web-1,web-2,web-3" {
		t.Fatalf("instances %v, want web-1..3", got)
	}
	for member, n := range perMember(got) {
		if n != 1 {
			t.Errorf("member %s got %d replicas, want 1 each: %v", member, n, got)
		}
	}
	if len(perMember(got)) != 3 {
		t.Errorf("replicas on %d members, want 3: %v", len(perMember(got)), got)
	}
	// What the dry run said is what happened.
	for _, s := range r.Plan.Steps {
		if got[s.Instance] != s.Member {
			t.Errorf("plan put %s on %s, Incus has it on %s", s.Instance, s.Member, got[s.Instance])
		}
	}

	// Re-apply with no change: nothing to do.
	r = call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": composeWeb(3)}).mustSucceed(t)
	if len(r.Changes) != 0 || r.Result == nil || !*r.Result {
		t.Fatalf("no-op re-apply changed something: %s", r.Raw)
	}

	// Scale up to 5: two more, spread (2/2/1), the first three untouched.
	r = call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": composeWeb(5)}).mustSucceed(t)
	scaled := placement(t, srv, stack)
	if names(scaled) != "web-1,web-2,web-3,web-4,web-5" {
		t.Fatalf("after scale to 5: %v", scaled)
	}
	for inst, member := range got {
		if scaled[inst] != member {
			t.Errorf("%s moved from %s to %s while scaling up", inst, member, scaled[inst])
		}
	}
	for member, n := range perMember(scaled) {
		if n < 1 || n > 2 {
			t.Errorf("member %s has %d of 5 replicas, want 1 or 2", member, n)
		}
	}
	if len(r.Changes) != 2 {
		t.Errorf("scale up reported %d changes, want 2: %s", len(r.Changes), r.Raw)
	}

	// Scale down to 2: the highest slots go.
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": composeWeb(2)}).mustSucceed(t)
	down := placement(t, srv, stack)
	if names(down) != "web-1,web-2" {
		t.Fatalf("after scale to 2: %v", down)
	}

	// stack.status reports the same as Incus.
	st := call(t, "stack.status", false, map[string]any{"name": stack}).mustSucceed(t)
	if !strings.Contains(st.Comment, "2 of 2 instances running") {
		t.Errorf("status comment %q", st.Comment)
	}

	// Removal leaves nothing: no instances, no project.
	r = call(t, "stack.absent", false, map[string]any{"name": stack}).mustSucceed(t)
	if projectExists(t, srv, stack) {
		t.Fatal("project still exists after stack.absent")
	}
	if len(r.Changes) != 3 { // 2 instances + the project
		t.Errorf("absent reported %d changes, want 3: %s", len(r.Changes), r.Raw)
	}
	// Absent again: already absent, no changes.
	r = call(t, "stack.absent", false, map[string]any{"name": stack}).mustSucceed(t)
	if len(r.Changes) != 0 {
		t.Errorf("second absent changed something: %s", r.Raw)
	}
}

// TestStackRemovesOrphanServices: a service dropped from the compose file
// is deleted; the others are kept.
func TestStackRemovesOrphanServices(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-orphans"
	cleanup(t, stack)
	two := "services:\n  a:\n    image: busybox\n  b:\n    image: busybox\n"
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": two}).mustSucceed(t)
	if got := names(placement(t, srv, stack)); got != "a-1,b-1" {
		t.Fatalf("deployed %s", got)
	}
	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": "services:\n  a:\n    image: busybox\n"}).mustSucceed(t)
	if got := names(placement(t, srv, stack)); got != "a-1" {
		t.Fatalf("after dropping b: %s", got)
	}
	if len(r.Plan.Steps) != 2 || r.Plan.Steps[1].Reason != "orphan" {
		t.Errorf("plan %s", r.Raw)
	}
}

// TestStackErrors: bad input changes nothing and says what is wrong.
func TestStackErrors(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-errors"
	cleanup(t, stack)
	cases := []struct {
		name, yaml, code, contains string
	}{
		{"missing image", "services:\n  web:\n    image: no-such-image\n", "not_found", `image "no-such-image" not found`},
		{"bad compose", "services:\n  web:\n    image: busybox\n    deploy:\n      mode: global\n      replicas: 2\n", "compose_invalid", "replicas"},
		{"reservation larger than any member", "services:\n  web:\n    image: busybox\n    deploy:\n      resources:\n        reservations:\n          memory: 100000G\n", "no_suitable_node", "insufficient resources"},
		{"too many replicas for one host port", "services:\n  web:\n    image: busybox\n    ports: [\"18090:80\"]\n    deploy:\n      replicas: 4\n", "no_suitable_node", "no suitable node for web"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": c.yaml})
			if r.Exit != 1 || r.Error == nil || r.Error.Code != c.code || !strings.Contains(r.Error.Message, c.contains) {
				t.Fatalf("want %s containing %q, got exit %d: %s", c.code, c.contains, r.Exit, r.Raw)
			}
			if projectExists(t, srv, stack) {
				t.Fatal("a failed request created the project")
			}
		})
	}
}
