package integration

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

// loopCompose: 2 replicas of one service that rolls back on failure, in
// the given update order; bad, when set, is a service line that breaks
// the new version (it is never healthy).
func loopCompose(version, order, bad string) string {
	if bad != "" {
		bad = "\n    " + bad
	}
	return fmt.Sprintf(`
services:
  web:
    image: busybox
    environment: {V: "%s"}%s
    deploy:
      replicas: 2
      update_config: {parallelism: 1, order: %s, failure_action: rollback, monitor: 1s}
      rollback_config: {parallelism: 1, monitor: 200ms}
`, version, bad, order)
}

// instanceBirths maps instance name → volatile.uuid and creation date, read
// with the test's own Incus client: a replacement changes both, also when
// it keeps the name.
func instanceBirths(t *testing.T, srv *bedClient, project string) string {
	t.Helper()
	var insts []struct {
		Name      string            `json:"name"`
		CreatedAt string            `json:"created_at"`
		Config    map[string]string `json:"config"`
	}
	if _, err := srv.UseProject(project).get("/instances", url.Values{"recursion": {"1"}}, &insts); err != nil {
		t.Fatal(err)
	}
	lines := make([]string, 0, len(insts))
	for _, in := range insts {
		lines = append(lines, fmt.Sprintf("%s %s %s", in.Name, in.Config["volatile.uuid"], in.CreatedAt))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestVersionFailureRollsBackOnce (issue 25, no rollback loop): a new
// version that cannot run (an unknown user; a main process that exits at
// once, whose state Incus answers with "Invalid PID", also with a
// healthcheck; one that never gets its address) fails its update in
// both update orders; failure_action rollback rolls the stack back once.
// The same spec applied again, three times (each is what a `stack watch`
// resync runs), and a `stack watch` with a 1 s resync, answer rolled_back
// and replace nothing; a changed spec then updates normally.
func TestVersionFailureRollsBackOnce(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	for _, order := range []string{"stop-first", "start-first"} {
		for _, c := range []struct{ name, bad string }{
			{"user", `user: "nosuchuser"`},
			{"exits", `command: ["sh", "-c", "exit 1"]`},
			// The probe meets an instance that keeps stopping.
			{"exits-probed", `command: ["sh", "-c", "exit 1"]` + "\n    healthcheck: {test: [CMD, \"true\"], interval: 200ms, timeout: 2s, retries: 2}"},
		} {
			name, bad := c.name, c.bad
			t.Run(order+"/"+name, func(t *testing.T) {
				t.Parallel() // each case has a stack of its own
				stack := "it-loop-" + strings.Split(order, "-")[0] + "-" + name
				cleanup(t, stack)
				present := func(compose string) response {
					return call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose})
				}
				present(loopCompose("1", order, "")).mustSucceed(t)
				old := hashes(t, srv, stack)["1"]

				broken := loopCompose("2", order, bad)
				first := present(broken)
				wantError(t, first, "rolled_back")
				if n := countHash(hashes(t, srv, stack), old); n != 2 {
					t.Fatalf("after the rollback %d of 2 slots run the old spec: %v", n, hashes(t, srv, stack))
				}
				placement(t, srv, stack) // every instance Running
				births := instanceBirths(t, srv, stack)

				for i := range 3 {
					r := present(broken)
					wantError(t, r, "rolled_back", "slot 1", "stack.rollback", "resume")
					if len(r.Changes) != 0 {
						t.Errorf("re-apply %d reports changes: %s", i+1, r.Raw)
					}
				}
				// A watch on the same spec: its start reconcile and two
				// periodic resyncs change nothing either.
				w := startWatch(t, stack, writeCompose(t, broken), "--resync", "1s")
				waitFor(t, 60*time.Second, "three reconciles", func() (bool, string) {
					return strings.Count(w.log(), "failed after") >= 3, w.log()
				})
				w.stop(t)
				if log := w.log(); strings.Count(log, ": rolled_back: ") != strings.Count(log, "failed after") || strings.Contains(log, "rolling back") {
					t.Errorf("a watch resync did more than answer rolled_back:\n%s", log)
				}
				if got := instanceBirths(t, srv, stack); got != births {
					t.Errorf("re-applying the rolled-back spec replaced instances:\nbefore:\n%s\nafter:\n%s", births, got)
				}

				r := present(loopCompose("3", order, "")).mustSucceed(t)
				if n := countHash(hashes(t, srv, stack), old); n != 0 {
					t.Errorf("a changed spec did not update every slot: %v\n%s", hashes(t, srv, stack), r.Raw)
				}
				placement(t, srv, stack)
			})
		}
	}
}
