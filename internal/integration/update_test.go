package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/incus"
)

// TestUpdateOnlyChangedService: changing one service's environment replaces
// only that service; applying again changes nothing.
func TestUpdateOnlyChangedService(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-update-one"
	cleanup(t, stack)
	compose := func(greeting string) string {
		return fmt.Sprintf(`
services:
  a:
    image: busybox
    environment: {GREETING: %q}
    deploy: {replicas: 2, update_config: {monitor: 300ms}}
  b:
    image: busybox
    deploy: {replicas: 2}
`, greeting)
	}
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose("v1")}).mustSucceed(t)
	before := placement(t, srv, stack)
	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose("v2")}).mustSucceed(t)
	for _, s := range r.Plan.Steps {
		want := "keep"
		if s.Service == "a" {
			want = "replace"
		}
		if s.Op != want {
			t.Errorf("%s slot %d: %s, want %s (%s)", s.Service, s.Slot, s.Op, want, s.Reason)
		}
		if s.Op == "replace" && s.Reason != "config changed" {
			t.Errorf("%s: reason %q, want config changed", s.Instance, s.Reason)
		}
	}
	after := placement(t, srv, stack)
	for _, inst := range []string{"b-1", "b-2"} {
		if after[inst] != before[inst] {
			t.Errorf("%s changed: %v -> %v", inst, before, after)
		}
	}
	env := instanceConfig(t, srv, stack, "a-1")["environment.GREETING"]
	if env != "v2" {
		t.Errorf("a-1 GREETING = %q after the update, want v2", env)
	}
	r = call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose("v2")}).mustSucceed(t)
	if len(r.Changes) != 0 {
		t.Errorf("re-apply changed %s", r.Raw)
	}
}

// TestStartFirstOverlaps: 3 replicas, parallelism 1, delay 1s, start-first.
// Incus's own lifecycle events show each slot's new instance started before
// its old one stopped, and never fewer than 3 running.
func TestStartFirstOverlaps(t *testing.T) {
	srv := testbed(t)
	const stack = "it-start-first"
	cleanup(t, stack)
	compose := func(v string) string {
		return fmt.Sprintf(`
services:
  web:
    image: busybox
    environment: {GREETING: %q}
    deploy:
      replicas: 3
      update_config: {parallelism: 1, delay: 1s, order: start-first, monitor: 300ms}
`, v)
	}
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose("v1")}).mustSucceed(t)
	rec := recordLifecycle(t, srv, stack)
	begin := time.Now()
	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose("v2")}).mustSucceed(t)
	elapsed := time.Since(begin)
	events := rec.stop()

	if elapsed < 2*time.Second {
		t.Errorf("update took %s; two 1s delays between three batches should take longer", elapsed)
	}
	running, minRunning := 3, 3
	started := map[string]time.Time{}
	stopped := map[string]time.Time{}
	for _, e := range events {
		switch e.action {
		case "instance-started":
			running++
			started[e.instance] = e.at
		case "instance-stopped", "instance-shutdown":
			running--
			stopped[e.instance] = e.at
		}
		minRunning = min(minRunning, running)
	}
	if minRunning < 3 {
		t.Errorf("running instances dropped to %d during a start-first update; events: %v", minRunning, events)
	}
	for _, s := range r.Plan.Steps {
		if s.Op != "replace" {
			t.Fatalf("step %+v, want replace", s)
		}
		newStart, ok1 := started[s.Instance]
		oldStop, ok2 := stopped[oldName(s.Instance)]
		if !ok1 || !ok2 {
			t.Errorf("slot %d: missing events (started %s: %v, stopped %s: %v): %v", s.Slot, s.Instance, ok1, oldName(s.Instance), ok2, events)
			continue
		}
		if !newStart.Before(oldStop) {
			t.Errorf("slot %d: new %s started at %s, not before old stopped at %s", s.Slot, s.Instance, newStart.Format(time.StampMilli), oldStop.Format(time.StampMilli))
		}
	}
	if got := names(placement(t, srv, stack)); got != "web-1-b,web-2-b,web-3-b" {
		t.Errorf("after start-first update: %s, want the alternate names", got)
	}
}

func oldName(newName string) string {
	if trimmed := strings.TrimSuffix(newName, "-b"); trimmed != newName {
		return trimmed
	}
	return newName + "-b"
}

// TestFailingHealthcheckPauses: new instances that never get healthy stop
// the update (update_paused) and the old replicas keep serving.
func TestFailingHealthcheckPauses(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-health-pause"
	cleanup(t, stack)
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": healthCompose("true", "pause")}).mustSucceed(t)
	before := placement(t, srv, stack)

	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": healthCompose("false", "pause")})
	if r.Exit != 1 || r.Error == nil || r.Error.Code != "update_paused" {
		t.Fatalf("want update_paused, got exit %d: %s", r.Exit, r.Raw)
	}
	if !strings.Contains(r.Error.Message, "unhealthy") {
		t.Errorf("message does not say why: %s", r.Error.Message)
	}
	after := placement(t, srv, stack)
	if names(after) != names(before) {
		t.Errorf("after a paused update: %s, want the old instances %s still running", names(after), names(before))
	}
}

// TestFailingHealthcheckRollsBack: with failure_action rollback every slot
// runs the old spec again (its recorded hash) and the error is rolled_back.
func TestFailingHealthcheckRollsBack(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-health-rollback"
	cleanup(t, stack)
	// parallelism 2: the first batch replaces two slots; with stop-first the
	// old ones are gone, so only a real rollback brings them back.
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": healthCompose("true", "rollback")}).mustSucceed(t)
	v1 := hashes(t, srv, stack)

	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": healthCompose("false", "rollback")})
	if r.Exit != 1 || r.Error == nil || r.Error.Code != "rolled_back" {
		t.Fatalf("want rolled_back, got exit %d: %s", r.Exit, r.Raw)
	}
	after := hashes(t, srv, stack)
	if len(after) != 3 {
		t.Fatalf("after rollback %d instances, want 3: %v", len(after), after)
	}
	for slot, h := range after {
		if h != v1["1"] {
			t.Errorf("slot %s has hash %s after rollback, want the old spec's %s", slot, h, v1["1"])
		}
	}
	running := placement(t, srv, stack) // also checks every instance is Running
	if len(running) != 3 {
		t.Errorf("running after rollback: %v", running)
	}
}

// TestManualRollback: stack.rollback returns to the previous deployed spec,
// and a second rollback returns to the newer one.
func TestManualRollback(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-rollback"
	cleanup(t, stack)
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": healthCompose("true", "pause")}).mustSucceed(t)
	v1 := hashes(t, srv, stack)
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": healthCompose("true && true", "pause")}).mustSucceed(t)
	v2 := hashes(t, srv, stack)
	if v1["1"] == v2["1"] {
		t.Fatal("the update did not change the hash")
	}
	r := call(t, "stack.rollback", true, map[string]any{"name": stack}).mustSucceed(t)
	if r.Result != nil || len(r.Changes) != 3 {
		t.Errorf("rollback dry run: %s", r.Raw)
	}
	call(t, "stack.rollback", false, map[string]any{"name": stack}).mustSucceed(t)
	if got := hashes(t, srv, stack); got["1"] != v1["1"] || got["3"] != v1["1"] {
		t.Errorf("after rollback: %v, want v1 %v", got, v1)
	}
	call(t, "stack.rollback", false, map[string]any{"name": stack}).mustSucceed(t)
	if got := hashes(t, srv, stack); got["2"] != v2["1"] {
		t.Errorf("after the second rollback: %v, want v2 %v", got, v2)
	}
}

func healthCompose(test, action string) string {
	return fmt.Sprintf(`
services:
  web:
    image: busybox
    healthcheck:
      test: ["CMD-SHELL", %q]
      interval: 200ms
      timeout: 2s
      retries: 2
    deploy:
      replicas: 3
      update_config: {parallelism: 2, failure_action: %s, monitor: 300ms}
      rollback_config: {parallelism: 0, monitor: 300ms}
`, test, action)
}

// hashes maps slot → recorded hash, read straight from Incus.
func hashes(t *testing.T, srv *bedClient, project string) map[string]string {
	t.Helper()
	return instanceIndex(t, srv, project, func(in incus.Instance) (string, string) {
		return in.Config["user.fleet.slot"], in.Config["user.fleet.hash"]
	})
}

// instanceIndex maps each instance of the project to one key and value.
func instanceIndex(t *testing.T, srv *bedClient, project string, kv func(incus.Instance) (string, string)) map[string]string {
	t.Helper()
	insts, err := srv.UseProject(project).GetInstances()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, in := range insts {
		k, v := kv(in)
		out[k] = v
	}
	return out
}

func instanceConfig(t *testing.T, srv *bedClient, project, name string) map[string]string {
	t.Helper()
	in, _, err := srv.UseProject(project).GetInstance(name)
	if err != nil {
		t.Fatal(err)
	}
	return in.Config
}
