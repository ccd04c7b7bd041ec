package integration

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustIncus(t testing.TB, args ...string) string {
	t.Helper()
	out, err := incusCLI(t, args...)
	if err != nil {
		t.Fatalf("incus %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// inInstance runs a shell command inside an instance of a stack.
func inInstance(t testing.TB, stack, instance, script string) string {
	t.Helper()
	return strings.TrimSpace(mustIncus(t, "exec", instance, "--project", stack, "--", "sh", "-c", script))
}

// volumeRow is one custom volume as `incus storage volume list` shows it.
type volumeRow struct {
	Name     string            `json:"name"`
	Type     string            `json:"type"`
	Location string            `json:"location"`
	Config   map[string]string `json:"config"`
	UsedBy   []string          `json:"used_by"`
}

// customVolumes lists the custom volumes in a stack's project, by name.
func customVolumes(t testing.TB, stack string) map[string][]volumeRow {
	t.Helper()
	out, err := incusCLI(t, "query", "/1.0/storage-pools/local/volumes/custom?recursion=1&project="+stack)
	if err != nil {
		if strings.Contains(out, "not found") {
			return map[string][]volumeRow{}
		}
		t.Fatalf("list volumes of %s: %v\n%s", stack, err, out)
	}
	var rows []volumeRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("volumes of %s: %v\n%s", stack, err, out)
	}
	byName := map[string][]volumeRow{}
	for _, r := range rows {
		byName[r.Name] = append(byName[r.Name], r)
	}
	return byName
}

func stackProjectExists(t testing.TB, stack string) bool {
	t.Helper()
	_, err := incusCLI(t, "project", "show", stack)
	return err == nil
}

// removeWithVolumes registers the cleanup that removes a stack with its
// volumes (plain stack.absent keeps them).
func removeWithVolumes(t *testing.T, stack string) {
	t.Cleanup(func() { call(t, "stack.absent", false, map[string]any{"name": stack, "volumes": true}) })
}

// secretProject writes a compose file and a secret file with a fresh
// random value into a temporary project directory.
func secretProject(t *testing.T, compose string) (dir, secret string) {
	t.Helper()
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	secret = "fleet-secret-" + hex.EncodeToString(b)
	dir = t.TempDir()
	for name, content := range map[string]string{"compose.yaml": compose, "pw.txt": secret} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, secret
}

// volumeStep is a plan step with the fields volume steps add.
type volumeStep struct {
	Op, Instance, Member, OldMember, Reason, Order, Volume, Sticky string
}

// planSteps decodes a response's plan with the volume fields.
func planSteps(t testing.TB, r response) []volumeStep {
	t.Helper()
	var doc struct {
		Plan struct {
			Steps []struct {
				Op, Instance, Member, Reason, Order, Volume, Sticky string
				OldMember                                           string `json:"old_member"`
			} `json:"steps"`
		} `json:"plan"`
	}
	if err := json.Unmarshal(r.Raw, &doc); err != nil {
		t.Fatalf("plan: %v", err)
	}
	var out []volumeStep
	for _, s := range doc.Plan.Steps {
		out = append(out, volumeStep{s.Op, s.Instance, s.Member, s.OldMember, s.Reason, s.Order, s.Volume, s.Sticky})
	}
	return out
}

// stepsOf renders a response's plan as "op instance@member reason order
// volume sticky" lines.
func stepsOf(t testing.TB, r response) string {
	t.Helper()
	var lines []string
	for _, s := range planSteps(t, r) {
		lines = append(lines, strings.Join([]string{s.Op, s.Instance + "@" + s.Member, s.Reason, "order=" + s.Order, "volume=" + s.Volume, "sticky=" + s.Sticky}, " "))
	}
	return strings.Join(lines, "\n")
}
