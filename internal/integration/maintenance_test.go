package integration

import (
	"encoding/json"
	"strings"
	"testing"
)

const maintenanceCompose = `services:
  web:
    image: busybox
    deploy:
      replicas: 3
  pinned:
    image: busybox
    deploy:
      replicas: 2
      placement:
        constraints: ["node.hostname == node2"]
      update_config:
        parallelism: 1
`

type verdicts struct {
	OK       bool `json:"ok"`
	Services []struct {
		Service  string `json:"service"`
		OK       bool   `json:"ok"`
		OnMember int    `json:"on_member"`
		Floor    int    `json:"floor"`
		After    int    `json:"after"`
		Desired  int    `json:"desired"`
		Running  int    `json:"running"`
	} `json:"services"`
}

// TestMaintenanceCheckAndHealth on the real cluster: web spreads one
// replica per member, pinned runs both replicas on node2. Evacuating node1
// keeps every service at desired - parallelism: allowed. Evacuating node2
// would stop both pinned replicas: refused, naming the service, and
// evacuate with check: true leaves node2 Online. With node1 in a failure
// domain of its own, cluster.status warns that pinned sits in one domain.
func TestMaintenanceCheckAndHealth(t *testing.T) {
	const stack = "fleet-maint"
	testbed(t)
	cleanup(t, stack)
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": maintenanceCompose}).mustSucceed(t)

	ok := call(t, "cluster.member.maintenance_check", false, map[string]any{"name": "node1"}).mustSucceed(t)
	var v verdicts
	if err := json.Unmarshal(ok.Raw, &v); err != nil || !v.OK {
		t.Fatalf("node1 check: %v %s", err, ok.Raw)
	}
	for _, s := range v.Services {
		// Where web's replicas land depends on the load of the bed; the
		// figures must add up whatever it is.
		if !s.OK || s.After != s.Running-s.OnMember || (s.Service == "web" && (s.Desired != 3 || s.Floor != 2)) {
			t.Errorf("figures for node1: %+v", s)
		}
	}

	no := call(t, "cluster.member.maintenance_check", false, map[string]any{"name": "node2"})
	mustFail(t, no, "conflict", "stack "+stack+" service pinned: evacuating node2 stops 2 of its 2 running replicas, leaving 0")
	if err := json.Unmarshal(no.Raw, &v); err != nil || v.OK || len(v.Services) == 0 {
		t.Fatalf("refusal without figures: %s", no.Raw)
	}

	ev := call(t, "cluster.member.evacuate", false, map[string]any{"name": "node2", "check": true})
	mustFail(t, ev, "conflict", "service pinned")
	if m, _ := query(t, "/1.0/cluster/members/node2"); m["status"] != "Online" {
		t.Fatalf("a refused evacuate changed node2: %v", m["status"])
	}

	// One failure domain of its own for node1 (restored afterwards).
	// (cluster.member.present runs on the member itself: node1 is the
	// bed's default socket.)
	call(t, "cluster.member.present", false, map[string]any{"name": "node1", "failure_domain": "fleet-fd-a"}).mustSucceed(t)
	t.Cleanup(func() {
		call(t, "cluster.member.present", false, map[string]any{"name": "node1", "failure_domain": "default"}).mustSucceed(t)
	})
	st := call(t, "cluster.status", false, map[string]any{}).mustSucceed(t)
	if !hasWarningPart(st.Warnings, "stack "+stack+": all 2 running replicas of service pinned are in failure domain default, though the cluster has 2") {
		t.Fatalf("no concentration warning: %q", st.Warnings)
	}
	if hasWarningPart(st.Warnings, "service web") {
		t.Fatalf("web spans both domains, yet warned: %q", st.Warnings)
	}
	if !strings.Contains(st.Comment, "warning") {
		t.Fatalf("comment does not carry the warnings for Salt: %q", st.Comment)
	}
	var counts struct {
		Instances map[string]map[string]int `json:"instances"`
	}
	_ = json.Unmarshal(st.Raw, &counts)
	if counts.Instances["node2"][stack] != 3 || counts.Instances["node1"][stack] != 1 {
		t.Fatalf("instances by member and stack: %v", counts.Instances)
	}
}
