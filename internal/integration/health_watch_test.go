package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestWatchHealthTakesUnhealthyOutAndRestarts: while `stack watch` runs,
// a replica whose healthcheck starts failing leaves the names of the
// others, is restarted (restart_policy), and rejoins them once healthy;
// one that stays sick through its restarts is given up after
// max_attempts, stays out of the names and says so. Before, health was
// checked only during rollouts: the sick replica kept its place in the
// names and nothing restarted it.
func TestWatchHealthTakesUnhealthyOutAndRestarts(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	requireLAN(t)
	const stack = "it-health"
	cleanup(t, stack)
	// /dev is a fresh tmpfs on every start of a container: /dev/sick is
	// cured by a restart, /sick (on the root disk) is not.
	file := writeCompose(t, `services:
  web:
    image: busybox
    healthcheck:
      test: ["CMD-SHELL", "test ! -e /dev/sick -a ! -e /sick"]
      interval: 1s
      timeout: 2s
      retries: 2
    deploy:
      replicas: 2
      restart_policy: {condition: any, max_attempts: 2, window: 5m}
  client:
    image: busybox
    deploy:
      placement:
        constraints: [node.hostname == node1]
`)
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_files": []string{file}}).mustSucceed(t)
	w := startWatch(t, stack, file)
	t.Cleanup(func() { w.stop(t) })
	healthOf := func(inst string) string { return instanceConfig(t, srv, stack, inst)["user.fleet.health"] }
	waitFor(t, 60*time.Second, "both replicas recorded healthy", func() (bool, string) {
		return healthOf("web-1") == "healthy" && healthOf("web-2") == "healthy", w.log()
	})
	inNames := func(inst string) bool {
		hosts, _ := inside(t, stack, "client-1", "cat", "/etc/hosts")
		return strings.Contains(hosts, "\t"+inst+" web")
	}
	if !inNames("web-1") || !inNames("web-2") {
		t.Fatal("replicas not in the client's names before the check fails")
	}
	started := func(inst string) string {
		in, _, err := srv.UseProject(stack).GetInstance(inst)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(in.LastUsedAt)
	}
	before := started("web-1")

	// 1. A sickness a restart cures.
	if _, err := inside(t, stack, "web-1", "touch", "/dev/sick"); err != nil {
		t.Fatal(err)
	}
	sick := time.Now()
	waitFor(t, 30*time.Second, "web-1 out of the client's names", func() (bool, string) {
		return !inNames("web-1"), w.log()
	})
	t.Logf("web-1 left the names %.1fs after its check started failing (interval 1s × retries 2)", time.Since(sick).Seconds())
	if !inNames("web-2") {
		t.Error("the healthy replica web-2 left the names too")
	}
	waitFor(t, 60*time.Second, "web-1 restarted, healthy and back in the names", func() (bool, string) {
		return started("web-1") != before && healthOf("web-1") == "healthy" && inNames("web-1"), w.log()
	})
	t.Logf("web-1 back in the names %.1fs after its check started failing", time.Since(sick).Seconds())
	if got, err := fetch(t, stack, "client-1", "http://web-1/"); err != nil || !strings.HasPrefix(got, "hello from web-1") {
		t.Errorf("web-1 after its restart: %q (%v)", got, err)
	}

	// 2. A sickness that survives restarts: after max_attempts (2 within
	// the window, one used above) the watch gives up.
	if _, err := inside(t, stack, "web-1", "touch", "/sick"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 90*time.Second, "the watch gives up on web-1", func() (bool, string) {
		return strings.Contains(w.log(), "web-1 stays unhealthy"), w.log()
	})
	if h := healthOf("web-1"); h != "unhealthy" {
		t.Errorf("web-1 recorded %q after the watch gave up, want unhealthy", h)
	}
	if out := instanceConfig(t, srv, stack, "web-1")["user.fleet.health.output"]; out == "" {
		t.Error("no probe output recorded with the unhealthy state")
	}
	// stack ps says so: the replica's health and its last probe.
	st := call(t, "stack.status", false, map[string]any{"name": stack}).mustSucceed(t)
	if !strings.Contains(st.Comment, "1 unhealthy") {
		t.Errorf("status summary %q does not count the unhealthy replica", st.Comment)
	}
	compact := strings.Join(strings.Fields(string(st.Raw)), "")
	if !strings.Contains(compact, `"instance":"web-1","member"`) || !strings.Contains(compact, `"health":"unhealthy","reason":"unhealthy:exitcode1"`) {
		t.Errorf("status does not show web-1 unhealthy: %s", st.Raw)
	}
	if inNames("web-1") || !inNames("web-2") {
		t.Error("after giving up, web-1 must stay out of the names and web-2 in them")
	}
	if n := strings.Count(w.log(), "health: restarted web-1"); n != 2 {
		t.Errorf("web-1 restarted %d times, want 2 (max_attempts):\n%s", n, w.log())
	}
	for i := 0; i < 4; i++ {
		if got, err := fetch(t, stack, "client-1", "http://web/"); err != nil || !strings.HasPrefix(got, "hello from web-2") {
			t.Errorf("web with web-1 unhealthy: %q (%v), want web-2", got, err)
		}
	}
}
