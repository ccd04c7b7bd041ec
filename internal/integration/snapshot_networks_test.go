package integration

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestSnapshotListsNetworks: cluster.snapshot lists the networks of the
// default project, among them the bed's LAN bridge, and an offline plan
// from that snapshot accepts a stack selecting the bridge with
// external/name and refuses one selecting a network that is not there.
func TestSnapshotListsNetworks(t *testing.T) {
	t.Parallel() // reads only; changes nothing (doc.go)
	testbed(t)
	bridge := os.Getenv("INCUS_FLEET_TESTBED_BRIDGE")
	if bridge == "" {
		t.Skip("the test bed has no LAN bridge (INCUS_FLEET_TESTBED_BRIDGE): run make testbed-up")
	}
	snap := call(t, "cluster.snapshot", false, map[string]any{}).mustSucceed(t)
	var doc struct {
		Snapshot map[string]any `json:"snapshot"`
	}
	if err := json.Unmarshal(snap.Raw, &doc); err != nil {
		t.Fatal(err)
	}
	nets, _ := json.Marshal(doc.Snapshot["networks"])
	if !strings.Contains(string(nets), `"name":"`+bridge+`"`) {
		t.Fatalf("snapshot networks %s lack the bed bridge %s", nets, bridge)
	}
	plan := func(network string) response {
		compose := "services:\n  web:\n    image: busybox\n    networks: [lan]\nnetworks:\n  lan: {name: " + network + "}\n"
		return call(t, "stack.present", true, map[string]any{"name": "it-snapshot-networks", "compose_yaml": compose, "cluster": doc.Snapshot})
	}
	if r := plan(bridge); r.Error != nil {
		t.Errorf("offline plan with the bed bridge: %s", r.Raw)
	}
	r := plan("fleet-no-such-net")
	if r.Error == nil || r.Error.Code != "not_found" || !strings.Contains(r.Error.Message, `"fleet-no-such-net"`) {
		t.Errorf("offline plan with a missing network: %s", r.Raw)
	}
}
