package integration

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/app"
)

// TestStatusShowsSlotsOnLostMember (issue 25, nothing hidden): with the
// member that holds db-1 and its volume crashed and offline, stack.status
// (and `stack ps`) still lists db slot 1, as Unknown, on that member, saying
// why (the member, the volume the slot waits for), and the summary counts
// it as not running. Before, the row was missing and the summary said
// "2 of 2 instances running".
func TestStatusShowsSlotsOnLostMember(t *testing.T) {
	srv := testbed(t)
	const stack = "it-status-lost"
	setServerConfig(t, srv, "cluster.offline_threshold", "11")
	prepareSpare(t, srv, stack)
	joinSpare(t)
	compose := `
services:
  web:
    image: busybox
    deploy:
      replicas: 2
      placement: {constraints: [node.hostname != ` + spareName + `]}
  db:
    image: busybox
    volumes: [data:/data]
    deploy:
      placement: {constraints: [node.hostname == ` + spareName + `]}
volumes:
  data: {}
`
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose}).mustSucceed(t)
	if got := call(t, "stack.status", false, map[string]any{"name": stack}).mustSucceed(t); got.Comment != "stack "+stack+": 3 of 3 instances running" {
		t.Fatalf("before the crash: %s", got.Comment)
	}

	if err := testbedScript(t, "member.sh", "crash", spareName); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 40*time.Second, spareName+" offline", func() (bool, string) {
		m, _, err := srv.GetClusterMember(spareName)
		if err != nil {
			return false, err.Error()
		}
		return m.Status == "Offline", m.Status
	})

	st := call(t, "stack.status", false, map[string]any{"name": stack}).mustSucceed(t)
	var body struct {
		Instances []struct {
			Service, Instance, Member, State, Reason string
			Slot                                     int
		}
	}
	if err := json.Unmarshal(st.Raw, &body); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, in := range body.Instances {
		if in.Service != "db" {
			continue
		}
		found = true
		if in.Slot != 1 || in.Instance != "db-1" || in.Member != spareName || in.State != "Unknown" ||
			!strings.Contains(in.Reason, "member "+spareName+" is offline") || !strings.Contains(in.Reason, "volume data-1") {
			t.Errorf("db row: %+v", in)
		}
	}
	if !found {
		t.Errorf("stack.status hides db, whose member is offline:\n%s", st.Raw)
	}
	if want := "stack " + stack + ": 2 of 3 instances running; 1 unknown (member not online)"; st.Comment != want {
		t.Errorf("summary %q, want %q", st.Comment, want)
	}

	// The human table shows the same row, with its reason.
	var out, errOut bytes.Buffer
	if code := app.Main([]string{"incus-fleet", "stack", "ps", "--name", stack}, nil, &out, &errOut); code != 0 {
		t.Fatalf("stack ps: exit %d: %s%s", code, out.String(), errOut.String())
	}
	if s := out.String(); !strings.Contains(s, "db-1") || !strings.Contains(s, "Unknown") || !strings.Contains(s, "waits for its volume data-1") {
		t.Errorf("stack ps does not show db-1 as unknown:\n%s", s)
	}
	t.Logf("stack ps with %s offline:\n%s", spareName, out.String())
}
