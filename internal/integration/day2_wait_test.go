package integration

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestStackUpWaitTimeout: with wait_timeout, stack.present returns only
// once every replica runs and passes its healthcheck; a service whose
// check never passes makes it fail with a timeout error naming that
// replica, its state and the probe's last output, and nothing else.
func TestStackUpWaitTimeout(t *testing.T) {
	t.Parallel()
	testbed(t)
	const sick = "it-wait-sick"
	cleanup(t, sick)
	yaml := `services:
  web:
    image: busybox
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
  sick:
    image: busybox
    healthcheck:
      test: ["CMD-SHELL", "echo still warming up; exit 1"]
      interval: 1s
`
	r := call(t, "stack.present", false, map[string]any{"name": sick, "compose_yaml": yaml, "wait_timeout": 4})
	if r.Error == nil || r.Error.Code != "timeout" {
		t.Fatalf("a check that never passes: want a timeout error, got %s", r.Raw)
	}
	msg := r.Error.Message
	for _, want := range []string{"sick.1 (sick-1 on node", "running, healthcheck not passing", "still warming up"} {
		if !strings.Contains(msg, want) {
			t.Errorf("timeout error does not say %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "web.1") {
		t.Errorf("timeout error names the healthy web replica: %s", msg)
	}
	if len(r.Error.Details) != 1 || !strings.HasPrefix(r.Error.Details[0].Field, "sick.1 ") {
		t.Errorf("details: %+v", r.Error.Details)
	}

	// A healthy stack, through the CLI flag: it returns normally, and
	// every replica runs.
	const ok = "it-wait-ok"
	cleanup(t, ok)
	file := writeCompose(t, `services:
  web:
    image: busybox
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
    deploy:
      replicas: 2
  plain:
    image: busybox
`)
	code, out := cliOut(t, "stack", "up", "-f", file, "-n", ok, "--wait-timeout", "90s")
	if code != 0 {
		t.Fatalf("stack up --wait-timeout on a healthy stack (exit %d):\n%s", code, out)
	}
	status := call(t, "stack.status", false, map[string]any{"name": ok}).mustSucceed(t)
	var st struct {
		Instances []struct{ State string } `json:"instances"`
	}
	if err := json.Unmarshal(status.Raw, &st); err != nil {
		t.Fatal(err)
	}
	running := 0
	for _, in := range st.Instances {
		if in.State == "Running" {
			running++
		}
	}
	if running != 3 || len(st.Instances) != 3 {
		t.Errorf("%d of %d replicas running after the wait, want 3 of 3: %s", running, len(st.Instances), status.Raw)
	}

	// Zero or negative is refused (leave it out not to wait).
	bad := call(t, "stack.present", false, map[string]any{"name": ok, "compose_yaml": yaml, "wait_timeout": 0})
	if bad.Error == nil || bad.Error.Code != "invalid_request" || !strings.Contains(bad.Error.Message, "wait_timeout") {
		t.Errorf("wait_timeout 0: %s", bad.Raw)
	}
}
