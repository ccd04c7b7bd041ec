package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func configHash(t *testing.T, stack, yaml string) string {
	t.Helper()
	r := call(t, "stack.config", false, map[string]any{"name": stack, "compose_yaml": yaml}).mustSucceed(t)
	var body struct {
		Hashes map[string]string `json:"hashes"`
	}
	_ = json.Unmarshal(r.Raw, &body)
	if body.Hashes["web"] == "" {
		t.Fatalf("no hash for web: %s", r.Raw)
	}
	return body.Hashes["web"]
}

// TestStackConfigHash: the hash stack config reports is the one recorded on
// the instances, and it changes exactly when stack up would replace them.
func TestStackConfigHash(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-config"
	cleanup(t, stack)
	web := func(replicas int, env, label string) string {
		return fmt.Sprintf("services:\n  web:\n    image: busybox\n    environment:\n      MODE: %s\n    deploy:\n      replicas: %d\n      labels:\n        team: %s\n", env, replicas, label)
	}
	base := web(2, "a", "x")
	h := configHash(t, stack, base)
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": base}).mustSucceed(t)
	for _, name := range []string{"web-1", "web-2"} {
		in, _, err := srv.UseProject(stack).GetInstance(name)
		if err != nil {
			t.Fatal(err)
		}
		if recorded, _, _ := strings.Cut(in.Config["user.fleet.hash"], "@"); recorded != h {
			t.Errorf("%s records hash %q, stack config says %q", name, recorded, h)
		}
	}
	for _, c := range []struct {
		what        string
		yaml        string
		wantChanged bool
	}{
		{"replicas and deploy.labels changed", web(3, "a", "y"), false},
		{"environment changed", web(2, "b", "x"), true},
	} {
		changed := configHash(t, stack, c.yaml) != h
		plan := call(t, "stack.present", true, map[string]any{"name": stack, "compose_yaml": c.yaml}).mustSucceed(t)
		replaced := 0
		for _, s := range plan.Plan.Steps {
			if s.Op == "replace" && (s.Instance == "web-1" || s.Instance == "web-2") {
				replaced++
			}
		}
		if changed != c.wantChanged || (replaced == 2) != changed || (replaced != 0 && replaced != 2) {
			t.Errorf("%s: hash changed %v (want %v), dry run replaces %d of web-1, web-2: %s", c.what, changed, c.wantChanged, replaced, plan.Raw)
		}
	}
	// The CLI prints "SERVICE HASH", as docker compose config --hash does.
	file := filepath.Join(t.TempDir(), "compose.yaml")
	if err := os.WriteFile(file, []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := cliOut(t, "stack", "config", "-f", file, "-n", stack, "--hash", "*"); code != 0 || out != "web "+h+"\n" {
		t.Errorf("stack config --hash '*' (exit %d): %q, want %q", code, out, "web "+h+"\n")
	}
}
