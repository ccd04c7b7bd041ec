package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
)

// crashCompose: web updates stop-first, api start-first, one slot at a time.
func crashCompose(version, webReplicas int) string {
	return fmt.Sprintf(`
services:
  web:
    image: busybox
    environment: {V: "%d"}
    deploy:
      replicas: %d
      update_config: {parallelism: 1, monitor: 100ms}
  api:
    image: busybox
    environment: {V: "%d"}
    deploy:
      replicas: 2
      update_config: {parallelism: 1, order: start-first, monitor: 100ms}
`, version, webReplicas, version)
}

// TestCrashConsistency kills the binary (SIGKILL, via crash points) at
// distinct points of deploy, update and scale-down, then checks that the
// next stack.present converges: no duplicate slot, no orphan, nothing
// stopped, the lock free, the record written, and a further run a no-op.
func TestCrashConsistency(t *testing.T) {
	srv := testbed(t)
	cases := []crashCase{
		{"project-created", "", crashCompose(1, 3), 3},
		{"locked", "", crashCompose(1, 3), 3},
		{"created-not-started:1", "", crashCompose(1, 3), 3},
		{"started:2", "", crashCompose(1, 3), 3},
		{"before-record", "", crashCompose(1, 3), 3},
		{"after-record", "", crashCompose(1, 3), 3},
		{"stopped-not-deleted:1", crashCompose(1, 3), crashCompose(2, 3), 3},
		{"stop-first-old-gone:2", crashCompose(1, 3), crashCompose(2, 3), 3},
		{"between-batches:1", crashCompose(1, 3), crashCompose(2, 3), 3},
		{"start-first-both-running:1", crashCompose(1, 3), crashCompose(2, 3), 3},
		{"created-not-started:2", crashCompose(1, 3), crashCompose(2, 3), 3},
		{"stopped-not-deleted:2", crashCompose(1, 3), crashCompose(1, 1), 1},
		// Inside the update gate (issue 12): api (start-first) gates first,
		// then web (stop-first). A killed start-first gate leaves both
		// copies; a killed stop-first gate leaves an unproven survivor,
		// whose gate the next run re-runs in place.
		{"gate:1", crashCompose(1, 3), crashCompose(2, 3), 3},
		{"gate:3", crashCompose(1, 3), crashCompose(2, 3), 3},
		{"gate-passed-not-recorded:4", crashCompose(1, 3), crashCompose(2, 3), 3},
		{"update-recorded", crashCompose(1, 3), crashCompose(2, 3), 3},
	}
	// Every point has a stack of its own, so the points run side by side
	// (up to go test's -parallel at once).
	var converged atomic.Int32
	t.Run("points", func(t *testing.T) {
		for i, c := range cases {
			t.Run(c.point, func(t *testing.T) {
				t.Parallel()
				if c.converges(t, srv, fmt.Sprintf("it-crash-%d", i)) {
					converged.Add(1)
				}
			})
		}
	})
	t.Logf("converged after %d of %d crash points", converged.Load(), len(cases))
}

type crashCase struct {
	point      string
	from, to   string // compose before the crashing run ("" = no stack) and of it
	toReplicas int
}

// converges kills a run at the point, then checks that the next run
// converges the stack and the one after changes nothing.
func (c crashCase) converges(t *testing.T, srv *bedClient, stack string) bool {
	cleanup(t, stack)
	if c.from != "" {
		call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": c.from}).mustSucceed(t)
	}
	if !crashRun(t, stack, c.to, c.point) {
		t.Fatalf("the run was not killed at %s: the crash point is not on this path", c.point)
	}
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": c.to}).mustSucceed(t)
	checkConverged(t, srv, stack, map[string]int{"web": c.toReplicas, "api": 2})
	again := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": c.to}).mustSucceed(t)
	if len(again.Changes) != 0 {
		t.Errorf("after recovery a further run still changes %s", again.Raw)
	}
	return !t.Failed()
}

// crashRun runs stack.present in a subprocess armed to SIGKILL itself at a
// point; it reports whether the process died by SIGKILL.
func crashRun(t *testing.T, stack, compose, point string) bool {
	t.Helper()
	return crashCall(t, "stack.present", map[string]any{"name": stack, "compose_yaml": compose}, point)
}

// checkConverged checks a stack straight in Incus: exactly the wanted slots
// per service, one instance each, all running, one hash per service, no
// stranger in the project, the lock released and the record written.
func checkConverged(t *testing.T, srv *bedClient, stack string, want map[string]int) {
	t.Helper()
	insts, err := srv.UseProject(stack).GetInstances()
	if err != nil {
		t.Fatal(err)
	}
	slots := map[string]map[string]string{} // service → slot → instance
	hashes := map[string]map[string]bool{}
	for _, in := range insts {
		svc, slot := in.Config["user.fleet.service"], in.Config["user.fleet.slot"]
		if in.Config["user.fleet.stack"] != stack || svc == "" || slot == "" {
			t.Errorf("orphan or stranger instance %s in the stack's project", in.Name)
			continue
		}
		if in.Status != "Running" {
			t.Errorf("%s is %s", in.Name, in.Status)
		}
		if slots[svc] == nil {
			slots[svc], hashes[svc] = map[string]string{}, map[string]bool{}
		}
		if prev, dup := slots[svc][slot]; dup {
			t.Errorf("duplicate slot %s/%s: %s and %s", svc, slot, prev, in.Name)
		}
		slots[svc][slot] = in.Name
		hashes[svc][in.Config["user.fleet.hash"]] = true
	}
	for svc, n := range want {
		if len(slots[svc]) != n {
			t.Errorf("service %s has slots %v, want %d", svc, slots[svc], n)
		}
		for i := 1; i <= n; i++ {
			if _, ok := slots[svc][fmt.Sprint(i)]; !ok {
				t.Errorf("service %s lacks slot %d", svc, i)
			}
		}
		if len(hashes[svc]) != 1 {
			t.Errorf("service %s runs %d different specs", svc, len(hashes[svc]))
		}
	}
	p, _, err := srv.GetProject(stack)
	if err != nil {
		t.Fatal(err)
	}
	// A killed holder's lock may remain, but it must not block: its process
	// is gone. The further run in the test proves nothing waits on it.
	if lp, _, err := srv.GetProfile("fleet-lock-" + stack); err == nil {
		var l struct{ PID int }
		if json.Unmarshal([]byte(lp.Description), &l) == nil && l.PID > 0 {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", l.PID)); err == nil {
				t.Errorf("the lock is held by a live process after the run: %s", lp.Description)
			}
		}
	}
	if p.Config["user.fleet.spec"] == "" {
		t.Error("no deployed spec recorded")
	}
}

// TestCrashDuringGateKeepsHealthyCopy (issue 12 item 4): a start-first run
// killed after its new instance started and before the new version's
// (failing) healthcheck passed leaves two copies of the slot. The next run
// must not keep the never-healthy copy over the running healthy one: with
// replicas 1 that would be a full outage. It re-runs the gate, which fails
// again, so the update pauses and the old copy keeps serving.
func TestCrashDuringGateKeepsHealthyCopy(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-crash-gate"
	cleanup(t, stack)
	compose := func(v, test string) string {
		return fmt.Sprintf(`
services:
  web:
    image: busybox
    environment: {V: "%s"}
    healthcheck: {test: ["CMD-SHELL", %q], interval: 200ms, timeout: 2s, retries: 2}
    deploy:
      replicas: 1
      update_config: {order: start-first, monitor: 200ms}
`, v, test)
	}
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose("1", "true")}).mustSucceed(t)
	old := instanceIDs(t, srv, stack)["web-1"]
	bad := compose("2", "false")
	if !crashRun(t, stack, bad, "started:1") { // the new copy runs, its gate has not passed
		t.Fatal("the run was not killed inside the gate")
	}
	if got := instanceIDs(t, srv, stack); len(got) != 2 {
		t.Fatalf("the killed run should leave both copies, got %v", got)
	}
	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": bad})
	for _, s := range r.Plan.Steps {
		if s.Op == "delete" && s.Instance == "web-1" {
			t.Errorf("the plan deletes the healthy running copy: %+v", s)
		}
	}
	wantError(t, r, "update_paused", "unhealthy")
	got := placement(t, srv, stack) // fails on anything not Running
	if len(got) != 1 || instanceIDs(t, srv, stack)["web-1"] != old {
		t.Errorf("after the recovery run the slot has %v; want only the old healthy web-1", got)
	}
}
