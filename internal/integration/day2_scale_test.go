package integration

import (
	"sort"
	"strings"
	"testing"
)

// TestStackScale: scale adds replicas without touching the running ones,
// its dry run shows the plan, the deployed spec keeps the new count, and
// (as in Swarm) the next stack up with the Compose file deploys the file's
// replicas again.
func TestStackScale(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-scale"
	cleanup(t, stack)
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": composeWeb(2)}).mustSucceed(t)
	before := placement(t, srv, stack)

	dry := call(t, "stack.scale", true, map[string]any{"name": stack, "replicas": map[string]int{"web": 4}}).mustSucceed(t)
	if dry.Result != nil || strings.Join(changing(dry), ",") != "create web-3,create web-4" {
		t.Fatalf("dry run: %s", dry.Raw)
	}
	if names(placement(t, srv, stack)) != "web-1,web-2" {
		t.Fatal("the dry run changed something")
	}
	code, out := cliOut(t, "stack", "scale", "-n", stack, "web=4")
	if code != 0 {
		t.Fatalf("stack scale web=4 (exit %d):\n%s", code, out)
	}
	after := placement(t, srv, stack)
	if names(after) != "web-1,web-2,web-3,web-4" {
		t.Fatalf("after scale: %v", after)
	}
	for inst, m := range before {
		if after[inst] != m {
			t.Errorf("%s moved from %s to %s", inst, m, after[inst])
		}
	}
	got, _ := stackList(t)
	if s := got[stack]; len(s.Services) != 1 || s.Services[0].Desired != 4 || s.Services[0].Running != 4 {
		t.Errorf("stack ls after scale: %+v", s)
	}
	// The file wins: its 2 replicas again, the two extra slots removed.
	up := call(t, "stack.present", true, map[string]any{"name": stack, "compose_yaml": composeWeb(2)}).mustSucceed(t)
	ops := changing(up)
	if sort.Strings(ops); strings.Join(ops, ",") != "delete web-3,delete web-4" {
		t.Errorf("stack up after scale plans %v, want web-3 and web-4 removed: %s", ops, up.Raw)
	}
	// Unknown and global services are refused, naming them.
	r := call(t, "stack.scale", false, map[string]any{"name": stack, "replicas": map[string]int{"nope": 1}})
	if r.Error == nil || r.Error.Code != "invalid_request" || !strings.Contains(r.Error.Message, `"nope"`) {
		t.Errorf("scale of an unknown service: %s", r.Raw)
	}
}

// changing lists a plan's steps other than keep, as "OP INSTANCE".
func changing(r response) []string {
	var ops []string
	for _, s := range r.Plan.Steps {
		if s.Op != "keep" {
			ops = append(ops, s.Op+" "+s.Instance)
		}
	}
	return ops
}
