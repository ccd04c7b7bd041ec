package integration

import (
	"encoding/json"
	"strings"
	"testing"
)

// Placement on the real cluster: labels set on members through the Incus
// client, then constraints, spread preferences and global mode, checked
// against where Incus says the instances run.

// TestPlacementConstraints: == keeps a service on the matching members,
// != on the others; a dir root pool warns once for the stack.
func TestPlacementConstraints(t *testing.T) {
	srv := testbed(t)
	const stack = "it-place-cons"
	m := coreMembers(t, srv)
	setLabels(t, srv, map[string]map[string]string{m[0]: {"storage": "ssd"}, m[1]: {"storage": ""}, m[2]: {"storage": "SSD"}})
	cleanup(t, stack)
	compose := `
services:
  db:
    image: busybox
    deploy:
      replicas: 4
      placement:
        constraints: [node.labels.storage == ssd]
  cache:
    image: busybox
    deploy:
      replicas: 2
      placement:
        constraints: ["node.labels.storage != ssd"]
`
	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose}).mustSucceed(t)
	got := placement(t, srv, stack)
	perDB := map[string]int{}
	for inst, member := range got {
		switch {
		case strings.HasPrefix(inst, "db-"):
			if member == m[1] {
				t.Errorf("%s landed on %s, which has no storage=ssd label", inst, member)
			}
			perDB[member]++
		case member != m[1]:
			t.Errorf("%s landed on %s; storage != ssd matches only %s", inst, member, m[1])
		}
	}
	if len(got) != 6 || perDB[m[0]] != 2 || perDB[m[2]] != 2 {
		t.Errorf("placement %v, want db 2+2 on %s and %s, cache on %s", got, m[0], m[2], m[1])
	}
	storage := 0
	for _, w := range r.Warnings {
		if strings.Contains(w, `root disk pool "local" uses the dir driver`) {
			storage++
		}
	}
	if storage != 1 {
		t.Errorf("want the local-storage warning once for the stack, got warnings %q", r.Warnings)
	}
}

// TestPlacementSpreadOverLabel: rack=a on two members, rack=b on one; four
// replicas spread over racks go two per rack (so the lone rack-b member
// takes two).
func TestPlacementSpreadOverLabel(t *testing.T) {
	srv := testbed(t)
	const stack = "it-place-spread"
	m := coreMembers(t, srv)
	setLabels(t, srv, map[string]map[string]string{m[0]: {"rack": "a"}, m[1]: {"rack": "a"}, m[2]: {"rack": "b"}})
	cleanup(t, stack)
	compose := `
services:
  web:
    image: busybox
    deploy:
      replicas: 4
      placement:
        preferences: [{spread: node.labels.rack}]
`
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose}).mustSucceed(t)
	got := perMember(placement(t, srv, stack))
	if racks := [2]int{got[m[0]] + got[m[1]], got[m[2]]}; racks != [2]int{2, 2} || got[m[0]] != 1 || got[m[1]] != 1 {
		t.Errorf("replicas per member %v, want rack a (%s, %s) 1+1 and rack b (%s) 2", got, m[0], m[1], m[2])
	}
}

// TestPlacementNoSuitableNode: a constraint nothing matches fails with
// Swarm's explanation; an unknown key fails naming the constraint. Neither
// creates anything.
func TestPlacementNoSuitableNode(t *testing.T) {
	srv := testbed(t)
	const stack = "it-place-none"
	cleanup(t, stack)
	cases := []struct{ constraint, code, message string }{
		{"node.labels.storage == nvme", "no_suitable_node",
			"no suitable node for db (2 replicas): constraint node.labels.storage==nvme excluded 3 of 3 members"},
		{"node.label.storage == nvme", "compose_invalid",
			`service db: invalid constraint "node.label.storage == nvme": unknown key "node.label.storage"`},
	}
	for _, c := range cases {
		compose := "services:\n  db:\n    image: busybox\n    deploy:\n      replicas: 2\n      placement:\n        constraints: [" + c.constraint + "]\n"
		r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose})
		if r.Exit != 1 || r.Error == nil || r.Error.Code != c.code || !strings.HasPrefix(r.Error.Message, c.message) {
			t.Errorf("%s: want %s %q, got exit %d: %s", c.constraint, c.code, c.message, r.Exit, r.Raw)
		}
		if projectExists(t, srv, stack) {
			t.Fatalf("%s: a failed deploy created the project", c.constraint)
		}
	}
}

// TestPlacementGlobal: one instance on every member, and the snapshot
// names the root pool the warning is about.
func TestPlacementGlobal(t *testing.T) {
	srv := testbed(t)
	const stack = "it-place-global"
	cleanup(t, stack)
	compose := "services:\n  agent:\n    image: busybox\n    deploy:\n      mode: global\n"
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose}).mustSucceed(t)
	got := perMember(placement(t, srv, stack))
	for _, m := range coreMembers(t, srv) {
		if got[m] != 1 {
			t.Errorf("member %s has %d agents, want 1: %v", m, got[m], got)
		}
	}
	if len(got) != 3 {
		t.Errorf("agents on %v, want the 3 members", got)
	}
	snap := call(t, "cluster.snapshot", false, map[string]any{}).mustSucceed(t)
	var doc struct {
		Snapshot struct {
			RootPool string `json:"root_pool"`
		} `json:"snapshot"`
	}
	if err := json.Unmarshal(snap.Raw, &doc); err != nil || doc.Snapshot.RootPool != "local" {
		t.Errorf("snapshot root_pool %q (%v), want local (the default profile's root disk)", doc.Snapshot.RootPool, err)
	}
}

// TestGlobalFollowsJoiningMember: a 4th member joins; the next
// stack.present gives it the global service's instance and keeps the
// others where they are.
func TestGlobalFollowsJoiningMember(t *testing.T) {
	srv := testbed(t)
	const stack = "it-place-join"
	compose := "services:\n  agent:\n    image: busybox\n    deploy:\n      mode: global\n"
	prepareSpare(t, srv, stack)
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose}).mustSucceed(t)
	before := placement(t, srv, stack)

	joinSpare(t)
	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose}).mustSucceed(t)
	after := placement(t, srv, stack)
	if got := perMember(after); len(after) != 4 || got[spareName] != 1 {
		t.Fatalf("after the join: %v, want one agent on each of 4 members", after)
	}
	for inst, member := range before {
		if after[inst] != member {
			t.Errorf("%s moved from %s to %s", inst, member, after[inst])
		}
	}
	if len(r.Changes) != 1 {
		t.Errorf("want exactly one change (the new member's agent): %s", r.Raw)
	}
}
