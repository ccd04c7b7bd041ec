package integration

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestClusterStatusWithMemberDown kills node3's daemon (its containers keep
// running) and checks the health report once the others see it offline:
// not healthy, the member and the database voter named, the pool on it
// unreachable. node3 is started again and must be back Online.
func TestClusterStatusWithMemberDown(t *testing.T) {
	testbed(t)
	old := strings.TrimSpace(mustCLI(t, "config", "get", "cluster.offline_threshold"))
	mustCLI(t, "config", "set", "cluster.offline_threshold", "11")
	t.Cleanup(func() {
		if old == "" {
			_, _ = incusCLI(t, "config", "unset", "cluster.offline_threshold")
		} else {
			_, _ = incusCLI(t, "config", "set", "cluster.offline_threshold", old)
		}
	})
	if err := testbedScript(t, "member.sh", "kill", "node3"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := testbedScript(t, "member.sh", "start", "node3"); err != nil {
			t.Error(err)
		}
		// Online is not yet serving: for a second or two the others refuse
		// to forward to it ("Server isn't ready yet"), which would fail the
		// next test's first Incus CLI call on node3.
		waitFor(t, 60*time.Second, "node3 back online and serving", func() (bool, string) {
			if s := statusOrReadError(t, "node3"); s != "Online" {
				return false, "status " + s
			}
			out, err := incusCLI(t, "query", "/1.0/resources?target=node3")
			return err == nil, "forwarded request: " + strings.TrimSpace(out)
		})
	})
	// Right after the threshold drops, a live member may briefly read as
	// offline too (its last heartbeat is older than the new threshold):
	// wait for exactly node3 down.
	waitFor(t, 60*time.Second, "node3 seen offline, node1 and node2 online", func() (bool, string) {
		var got []string
		for _, n := range bedMembers {
			got = append(got, n+"="+statusOrReadError(t, n))
		}
		return strings.Join(got, " ") == "node1=Online node2=Online node3=Offline", strings.Join(got, " ")
	})
	r := call(t, "cluster.status", false, map[string]any{}).mustSucceed(t)
	var doc struct {
		Healthy bool `json:"healthy"`
		Pools   []struct {
			Name    string            `json:"name"`
			Members map[string]string `json:"members"`
		} `json:"storage_pools"`
	}
	if err := json.Unmarshal(r.Raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Healthy {
		t.Fatalf("healthy with node3 offline: %s", r.Raw)
	}
	for _, want := range []string{"member node3 is Offline", "database voter node3 is Offline", "storage pool local is not ready on every member: node3 unreachable (member offline)"} {
		if !hasWarningPart(r.Warnings, want) {
			t.Errorf("no warning %q in %q", want, r.Warnings)
		}
	}
	for _, p := range doc.Pools {
		if p.Name == "local" && (p.Members["node1"] != "Created" || !strings.HasPrefix(p.Members["node3"], "unreachable")) {
			t.Errorf("pool local per member: %v", p.Members)
		}
	}
}

// statusOrReadError is a member's status as Incus reports it, or the error of
// the read: right after a database voter dies, reads fail until the others
// elect a new leader, and a wait for a status must ride that out.
func statusOrReadError(t testing.TB, name string) string {
	t.Helper()
	out, err := incusCLI(t, "query", "/1.0/cluster/members/"+name)
	if err != nil {
		return "unreadable (" + strings.TrimSpace(out) + ")"
	}
	var m struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		return "unreadable (" + err.Error() + ")"
	}
	return m.Status
}
