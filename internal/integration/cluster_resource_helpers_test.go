package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/crashpoint"
)

// Helpers of the storage pool / network / health tests. They check Incus
// through the incus command line on node1's INCUS_DIR: independent of
// incus-fleet's own client.

// bedDir is this test bed's directory (TESTBED_DIR), where test resources
// (pool sources) are made so two beds never share them.
func bedDir(t testing.TB) string {
	testbed(t) // skips or fails when the bed is not up
	return os.Getenv("INCUS_FLEET_TESTBED")
}

// incusCLI runs the incus client on node1's daemon.
func incusCLI(t testing.TB, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("incus", append([]string{"--force-local"}, args...)...)
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "INCUS_SOCKET=") && !strings.HasPrefix(kv, "INCUS_DIR=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "INCUS_DIR="+os.Getenv("INCUS_DIR_NODE1"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("incus %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// query GETs an API path; found is false on "not found".
func query(t testing.TB, path string) (map[string]any, bool) {
	t.Helper()
	out, err := incusCLI(t, "query", path)
	if err != nil {
		if strings.Contains(strings.ToLower(out), "not found") {
			return nil, false
		}
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("query %s: %v: %s", path, err, out)
	}
	return doc, true
}

func configOf(doc map[string]any) map[string]string {
	out := map[string]string{}
	cfg, _ := doc["config"].(map[string]any)
	for k, v := range cfg {
		out[k], _ = v.(string)
	}
	return out
}

func stringsOf(doc map[string]any, key string) []string {
	var out []string
	list, _ := doc[key].([]any)
	for _, v := range list {
		s, _ := v.(string)
		out = append(out, s)
	}
	slices.Sort(out) // Incus lists locations in no particular order
	return out
}

// mustChangeKeys checks the response changed exactly these keys.
func mustChangeKeys(t testing.TB, r response, keys ...string) {
	t.Helper()
	if len(r.Changes) != len(keys) {
		t.Fatalf("changes %s, want keys %v", r.Raw, keys)
	}
	for _, k := range keys {
		if _, ok := r.Changes[k]; !ok {
			t.Fatalf("changes %s lack %s", r.Raw, k)
		}
	}
}

// mustFail checks an error response with the code and a message part.
func mustFail(t testing.TB, r response, code, part string) {
	t.Helper()
	if r.Error == nil || r.Error.Code != code || !strings.Contains(r.Error.Message, part) {
		t.Fatalf("want %s error containing %q, got %s", code, part, r.Raw)
	}
	if len(r.Changes) != 0 {
		t.Fatalf("a refused run reports changes: %s", r.Raw)
	}
}

// crashCall runs one request in the real binary armed to SIGKILL itself at
// point; it reports whether it died there.
func crashCall(t *testing.T, action string, params any, point string) bool {
	t.Helper()
	req, _ := json.Marshal(map[string]any{"version": 1, "action": action, "params": params})
	cmd := exec.Command(binary(t), "call")
	cmd.Stdin = bytes.NewReader(req)
	cmd.Env = append(os.Environ(), crashpoint.EnvVar+"="+point)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true
		}
	}
	t.Logf("run armed at %s ended with %v:\n%s", point, err, out.String())
	return false
}

// poolSources makes one source directory per member under the bed.
func poolSources(t *testing.T, pool string, members ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range members {
		dir := filepath.Join(bedDir(t), "pool-sources", pool, m)
		if err := os.MkdirAll(dir, 0o711); err != nil {
			t.Fatal(err)
		}
		out[m] = dir
	}
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Join(bedDir(t), "pool-sources", pool)) })
	return out
}

// dropPool removes a test pool whatever state a test left it in.
func dropPool(t *testing.T, name string) {
	t.Helper()
	if _, found := query(t, "/1.0/storage-pools/"+name); found {
		if _, err := incusCLI(t, "storage", "delete", name); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}
