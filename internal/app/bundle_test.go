package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/bundle"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// callOffline runs one request through the real decode → validate → serve
// path; every case here fails or succeeds before Incus is contacted.
func callOffline(t *testing.T, action string, params map[string]any) protocol.Response {
	t.Helper()
	req, _ := json.Marshal(map[string]any{"version": 1, "action": action, "params": params})
	var stderr bytes.Buffer
	resp := run(context.Background(), bytes.NewReader(req), &stderr)
	out, _ := json.Marshal(resp)
	var doc any
	_ = json.Unmarshal(out, &doc)
	if err := protocol.ValidateResponse(action, doc); err != nil {
		t.Fatalf("response does not match the %s schema: %v\n%s", action, err, out)
	}
	return resp
}

func testBundle(t *testing.T) (string, *bundle.Result) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.conf"), []byte("x=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	res, err := bundle.Create(&buf, bundle.Source{Dir: dir, Compose: []byte("services:\n  web:\n    image: busybox\n"), Required: []string{"app.conf"}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "app.tar.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, res
}

func TestBundleVerifyAction(t *testing.T) {
	path, res := testBundle(t)
	resp := callOffline(t, "bundle.verify", map[string]any{"bundle": path})
	if resp.Error != nil || resp.Fields["sha256"] != res.SHA256 {
		t.Fatalf("verify: %+v", resp)
	}
	// One byte changed anywhere in the file: refused, exit 1, not a crash.
	data, _ := os.ReadFile(path)
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	resp = callOffline(t, "bundle.verify", map[string]any{"bundle": path})
	if resp.Error == nil || resp.Error.Code != protocol.CodeComposeInvalid || resp.ExitCode() != 1 {
		t.Errorf("corrupt bundle: %+v", resp.Error)
	}
	resp = callOffline(t, "bundle.verify", map[string]any{"bundle": path + ".missing"})
	if resp.Error == nil || resp.Error.Code != protocol.CodeNotFound {
		t.Errorf("missing bundle: %+v", resp.Error)
	}
}

func TestStackPresentBundleParams(t *testing.T) {
	path, _ := testBundle(t)
	for name, params := range map[string]map[string]any{
		"with env":         {"name": "s", "bundle": path, "env": map[string]string{"A": "1"}},
		"with project_dir": {"name": "s", "bundle": path, "project_dir": "/tmp"},
		"with profiles":    {"name": "s", "bundle": path, "profiles": []string{"p"}},
		"with compose":     {"name": "s", "bundle": path, "compose_yaml": "services: {}"},
	} {
		resp := callOffline(t, "stack.present", params)
		if resp.Error == nil || resp.Error.Code != protocol.CodeInvalidRequest {
			t.Errorf("%s: %+v", name, resp.Error)
		}
	}
	resp := callOffline(t, "bundle.create", map[string]any{"compose_files": []string{"x.yaml"}, "output": "/nonexistent-dir/app.tar.gz"})
	if resp.Error == nil || !strings.Contains(resp.Error.Message, "does not exist") {
		t.Errorf("output in a missing directory: %+v", resp.Error)
	}
}
