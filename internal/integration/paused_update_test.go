package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/app"
	"github.com/incus-fleet/incus-fleet/internal/incus"
)

// gatedCompose: 3 replicas, stop-first, one slot at a time. The healthcheck
// is `test`: "true" passes, "test -f /ok" passes once a test creates /ok
// in the instance.
func gatedCompose(version, test, action string) string {
	return fmt.Sprintf(`
services:
  web:
    image: busybox
    environment: {V: "%s"}
    healthcheck:
      test: ["CMD-SHELL", %q]
      interval: 200ms
      timeout: 2s
      retries: 2
    deploy:
      replicas: 3
      update_config: {parallelism: 1, order: stop-first, failure_action: %s, monitor: 200ms}
      rollback_config: {parallelism: 1, monitor: 200ms}
`, version, test, action)
}

// instanceIDs maps instance name → volatile.uuid: a replaced instance gets
// a new one even when it keeps its name.
func instanceIDs(t *testing.T, srv *bedClient, project string) map[string]string {
	t.Helper()
	return instanceIndex(t, srv, project, func(in incus.Instance) (string, string) {
		return in.Name, in.Config["volatile.uuid"]
	})
}

// countHash counts the slots running hash h.
func countHash(hs map[string]string, h string) int {
	n := 0
	for _, v := range hs {
		if v == h {
			n++
		}
	}
	return n
}

func touchOK(t *testing.T, project, instance string) {
	t.Helper()
	mustIncus(t, "exec", "--project", project, instance, "--", "touch", "/ok")
}

func wantError(t *testing.T, r response, code string, says ...string) {
	t.Helper()
	if r.Exit != 1 || r.Error == nil || r.Error.Code != code {
		t.Fatalf("want %s, got exit %d: %s\nstderr:\n%s", code, r.Exit, r.Raw, lastLines(r.Stderr, 20))
	}
	for _, s := range says {
		if !strings.Contains(r.Error.Message, s) {
			t.Errorf("the %s message does not say %q: %s", code, s, r.Error.Message)
		}
	}
}

// TestPausedUpdateStaysPaused (issue 12 item 2): a paused update stays
// paused. The same spec again changes nothing and answers update_paused
// naming the failed slot and both ways out (also as a dry run); resume:
// true, and the CLI's --resume, continue it.
func TestPausedUpdateStaysPaused(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-pause-stays"
	cleanup(t, stack)
	v1, v2 := gatedCompose("1", "true", "pause"), gatedCompose("2", "test -f /ok", "pause")
	present := func(compose string, extra map[string]any) response {
		p := map[string]any{"name": stack, "compose_yaml": compose}
		for k, v := range extra {
			p[k] = v
		}
		return call(t, "stack.present", false, p)
	}
	present(v1, nil).mustSucceed(t)
	old := hashes(t, srv, stack)["1"]

	wantError(t, present(v2, nil), "update_paused", "web-1", "unhealthy")
	paused := hashes(t, srv, stack)
	if n := 3 - countHash(paused, old); n != 1 {
		t.Fatalf("the first run should pause after one slot; slots %v", paused)
	}
	ids := instanceIDs(t, srv, stack)

	for range 2 { // every re-apply, as `stack watch` would
		r := present(v2, nil)
		wantError(t, r, "update_paused", "slot 1", "stack.rollback", "fix the spec", "resume")
		if len(r.Changes) != 0 {
			t.Errorf("a re-apply of the paused spec reports changes: %s", r.Raw)
		}
	}
	dry := call(t, "stack.present", true, map[string]any{"name": stack, "compose_yaml": v2})
	wantError(t, dry, "update_paused", "slot 1")
	if got := instanceIDs(t, srv, stack); fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Errorf("re-applying a paused update replaced instances: %v -> %v", ids, got)
	}
	if got := hashes(t, srv, stack); fmt.Sprint(got) != fmt.Sprint(paused) {
		t.Errorf("re-applying a paused update rolled on: %v -> %v", paused, got)
	}

	// resume: slot 1 passes its gate now, slot 2 is replaced and fails.
	touchOK(t, stack, "web-1")
	wantError(t, present(v2, map[string]any{"resume": true}), "update_paused", "slot 2")
	if n := 3 - countHash(hashes(t, srv, stack), old); n != 2 {
		t.Errorf("resume did not continue to slot 2: %v", hashes(t, srv, stack))
	}

	// The CLI's --resume does the same for slot 3.
	touchOK(t, stack, "web-2")
	file := filepath.Join(t.TempDir(), "compose.yaml")
	if err := os.WriteFile(file, []byte(v2), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := app.Main([]string{"incus-fleet", "stack", "up", "-f", file, "--name", stack, "--resume", "--json"}, nil, &out, &errOut)
	var resp response
	if err := json.Unmarshal(out.Bytes(), &resp); err != nil || code != 1 || resp.Error == nil || resp.Error.Code != "update_paused" ||
		!strings.Contains(resp.Error.Message, "slot 3") {
		t.Errorf("stack up --resume: exit %d, want update_paused at slot 3: %s\n%s", code, out.String(), lastLines(errOut.String(), 20))
	}
	if n := countHash(hashes(t, srv, stack), old); n != 0 {
		t.Errorf("--resume did not reach slot 3: %v", hashes(t, srv, stack))
	}
}

// TestRolledBackUpdateDoesNotLoop (issue 12 item 2): after failure_action
// rollback, applying the same spec again (a `stack watch` resync) neither
// replaces nor rolls back again: it answers rolled_back and changes nothing.
func TestRolledBackUpdateDoesNotLoop(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-rollback-once"
	cleanup(t, stack)
	v1, v2 := gatedCompose("1", "true", "rollback"), gatedCompose("2", "false", "rollback")
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": v1}).mustSucceed(t)
	old := hashes(t, srv, stack)["1"]
	wantError(t, call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": v2}), "rolled_back")
	ids := instanceIDs(t, srv, stack)
	for range 2 {
		r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": v2})
		wantError(t, r, "rolled_back", "slot 1", "stack.rollback", "resume")
		if len(r.Changes) != 0 {
			t.Errorf("the resync reports changes: %s", r.Raw)
		}
	}
	if got := instanceIDs(t, srv, stack); fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Errorf("the resync replaced instances again: %v -> %v", ids, got)
	}
	if n := countHash(hashes(t, srv, stack), old); n != 3 {
		t.Errorf("after the rollback %d of 3 slots run the old spec: %v", n, hashes(t, srv, stack))
	}
	// The good spec is still welcome.
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": gatedCompose("3", "true", "rollback")}).mustSucceed(t)
}

// TestUpdatePolicyChangeReplacesNothing (issue 12 item 12): editing only
// update_config, rollback_config and deploy labels replaces no instance;
// the stack record keeps the new policy and the next update rolls with it.
func TestUpdatePolicyChangeReplacesNothing(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-update-policy"
	cleanup(t, stack)
	compose := func(v, policy string) string {
		return fmt.Sprintf(`
services:
  web:
    image: busybox
    environment: {V: "%s"}
    deploy:
      replicas: 3
%s`, v, policy)
	}
	oldPolicy := "      update_config: {parallelism: 1, order: stop-first, monitor: 100ms}\n"
	newPolicy := "      update_config: {parallelism: 0, order: start-first, monitor: 100ms}\n" +
		"      rollback_config: {parallelism: 3, failure_action: continue}\n" +
		"      labels: {team: blue}\n"
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose("1", oldPolicy)}).mustSucceed(t)
	ids := instanceIDs(t, srv, stack)

	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose("1", newPolicy)}).mustSucceed(t)
	for _, s := range r.Plan.Steps {
		if s.Op != "keep" {
			t.Errorf("a policy-only change plans %s %s (%s)", s.Op, s.Instance, s.Reason)
		}
	}
	if got := instanceIDs(t, srv, stack); fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Errorf("a policy-only change replaced instances: %v -> %v", ids, got)
	}
	p, _, err := srv.GetProject(stack)
	if err != nil {
		t.Fatal(err)
	}
	if spec := p.Config["user.fleet.spec"]; !strings.Contains(spec, `"Order":"start-first"`) || !strings.Contains(spec, "blue") {
		t.Errorf("the stack record does not keep the new policy: %s", spec)
	}
	if st := call(t, "stack.status", false, map[string]any{"name": stack}).mustSucceed(t); !strings.Contains(string(st.Raw), `"team": "blue"`) {
		t.Errorf("stack.status does not show the new deploy labels: %s", st.Raw)
	}

	// The next update rolls with it: all slots in one batch, start-first.
	r = call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose("2", newPolicy)}).mustSucceed(t)
	var plan struct {
		Plan struct {
			Steps []struct {
				Op, Order string
				Batch     int
			}
		}
	}
	if err := json.Unmarshal(r.Raw, &plan); err != nil {
		t.Fatal(err)
	}
	for _, s := range plan.Plan.Steps {
		if s.Op != "replace" || s.Order != "start-first" || s.Batch != 1 {
			t.Errorf("update step %+v, want replace start-first in batch 1 (parallelism 0)", s)
		}
	}
	if got := names(placement(t, srv, stack)); got != "web-1-b,web-2-b,web-3-b" {
		t.Errorf("after a start-first update: %s", got)
	}
}
