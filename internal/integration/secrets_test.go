package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretsCompose: app runs as uid 1000 with a short-syntax secret (Swarm's
// defaults: root-owned, mode 0444) and a long-syntax one (uid, gid, mode
// given); version changes its environment, so a new version replaces it.
func secretsCompose(version int) string {
	return fmt.Sprintf(`
services:
  app:
    image: busybox
    command: ["sh", "-c", "exec sleep 3600"]
    user: "1000"
    environment: {V: "%d"}
    secrets:
      - pw
      - {source: pw, target: own, uid: "1000", gid: "1000", mode: 0400}
secrets:
  pw: {file: ./pw.txt}
`, version)
}

// secretsAsUser reads both secrets as uid 1000 and shows their owner and
// mode, as the service's own user sees them.
func secretsAsUser(t *testing.T, stack, instance string) string {
	t.Helper()
	out, err := incusCLI(t, "exec", "--project", stack, "--user", "1000", "--group", "1000", instance, "--",
		"sh", "-c", "stat -c '%u %g %a' /run/secrets/pw /run/secrets/own; cat /run/secrets/pw; echo; cat /run/secrets/own")
	if err != nil {
		return "error: " + out
	}
	return strings.TrimSpace(out)
}

// TestSecretsForTheServiceUserAndRollback: a service running as uid 1000
// reads its secret (Swarm's default owner 0:0 and mode 0444; the long
// syntax's uid, gid and mode win); after an update and stack.rollback,
// whose record never holds the content, the re-created instance has both
// secrets again, and no response or log shows them.
func TestSecretsForTheServiceUserAndRollback(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	testbed(t)
	const stack = "it-secrets"
	cleanup(t, stack)
	dir, secret := secretProject(t, secretsCompose(1))
	// Compared with the secret masked, so a failure never prints it.
	masked := func(s string) string { return strings.ReplaceAll(s, secret, "<secret>") }
	want := "0 0 444\n1000 1000 400\n<secret>\n<secret>"
	noLeak := func(r response) response {
		t.Helper()
		if strings.Contains(string(r.Raw), secret) || strings.Contains(r.Stderr, secret) {
			t.Fatalf("the secret leaks into the response or the log:\n%s\n%s", masked(string(r.Raw)), masked(r.Stderr))
		}
		return r
	}
	present := func(version int) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(secretsCompose(version)), 0o600); err != nil {
			t.Fatal(err)
		}
		noLeak(call(t, "stack.present", false, map[string]any{"name": stack, "compose_files": []string{filepath.Join(dir, "compose.yaml")}})).mustSucceed(t)
	}
	present(1)
	if got := masked(secretsAsUser(t, stack, "app-1")); got != want {
		t.Errorf("the secrets as uid 1000 after the deploy:\n%s\nwant:\n%s", got, want)
	}
	present(2)
	r := noLeak(call(t, "stack.rollback", false, map[string]any{"name": stack})).mustSucceed(t)
	if got := incusExec(t, stack, "app-1", "echo $V"); got != "1" {
		t.Fatalf("the rollback did not return app-1 to version 1 (V=%q): %s", got, r.Raw)
	}
	if got := masked(secretsAsUser(t, stack, "app-1")); got != want {
		t.Errorf("the secrets as uid 1000 after stack.rollback:\n%s\nwant:\n%s\nwarnings: %q", got, want, r.Warnings)
	}
	if out := mustIncus(t, "project", "show", stack); strings.Contains(out, secret) {
		t.Error("the secret is stored in the stack record")
	}
}
