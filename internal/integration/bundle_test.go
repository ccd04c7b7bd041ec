package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/bundle"
)

// bundleCompose is a 3-replica busybox stack with a bind-mounted config
// file and a config; updates and rollbacks run all at once with a short
// monitor so the test stays quick.
const bundleCompose = `
services:
  web:
    image: busybox
    volumes:
      - ./conf/app.conf:/etc/app/app.conf:ro
    configs:
      - source: motd
        target: /etc/motd
        mode: 0440
    deploy:
      replicas: 3
      update_config: {parallelism: 0, monitor: 1s}
      rollback_config: {parallelism: 0, monitor: 1s}
configs:
  motd:
    content: "managed by incus-fleet"
`

// bundleFields are the bundle.* response fields.
type bundleFields struct {
	Bundle   string `json:"bundle"`
	SHA256   string `json:"sha256"`
	Manifest struct {
		Files int      `json:"files"`
		Paths []string `json:"paths"`
	} `json:"manifest"`
}

func fieldsOf(t *testing.T, r response) bundleFields {
	t.Helper()
	var f bundleFields
	if err := json.Unmarshal(r.Raw, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// bundleProject writes the compose project and returns its directory.
func bundleProject(t *testing.T, appConf string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"compose.yaml": bundleCompose, "conf/app.conf": appConf, ".env": "NOT_BUNDLED=1\n"} {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func createBundle(t *testing.T, dir, output string) bundleFields {
	t.Helper()
	r := call(t, "bundle.create", false, map[string]any{"compose_files": []string{filepath.Join(dir, "compose.yaml")}, "output": output}).mustSucceed(t)
	return fieldsOf(t, r)
}

// instanceFile reads a file inside an instance through the Incus API.
func instanceFile(t *testing.T, srv *bedClient, project, instance, path string) (string, int) {
	t.Helper()
	content, mode, err := srv.UseProject(project).GetInstanceFile(instance, path)
	if err != nil {
		t.Fatalf("read %s in %s: %v", path, instance, err)
	}
	return content, mode
}

// everyReplicaHas checks a file's content in every instance of the stack,
// whichever member it runs on.
func everyReplicaHas(t *testing.T, srv *bedClient, stack, path, want string) {
	t.Helper()
	got := placement(t, srv, stack)
	if len(got) != 3 || len(perMember(got)) != 3 {
		t.Fatalf("instances %v, want 3 on 3 members", got)
	}
	for inst, member := range got {
		if content, _ := instanceFile(t, srv, stack, inst, path); content != want {
			t.Errorf("%s on %s: %s holds %q, want %q", inst, member, path, content, want)
		}
	}
}

// TestBundleLifecycle is issue 7's acceptance: create a bundle (twice,
// byte-identical), verify it, deploy it (the file is in every replica),
// re-deploy as a no-op, refuse a tampered copy, roll to a new bundle when
// the config file changes, and roll back to the previous bundle.
func TestBundleLifecycle(t *testing.T) {
	// Not parallel: t.Setenv (the bundle cache dir) is process-wide.
	srv := testbed(t)
	const stack = "it-bundle-life"
	cleanup(t, stack)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	out := t.TempDir()
	dir := bundleProject(t, "version 1\n")

	// Deterministic: two creations, byte-identical; a third is no change.
	first := createBundle(t, dir, filepath.Join(out, "a.tar.gz"))
	second := createBundle(t, dir, filepath.Join(out, "b.tar.gz"))
	a, _ := os.ReadFile(first.Bundle)
	b, _ := os.ReadFile(second.Bundle)
	if !bytes.Equal(a, b) || first.SHA256 != second.SHA256 || len(a) == 0 {
		t.Fatalf("two creations differ: %s vs %s", first.SHA256, second.SHA256)
	}
	again := call(t, "bundle.create", false, map[string]any{"compose_files": []string{filepath.Join(dir, "compose.yaml")}, "output": first.Bundle}).mustSucceed(t)
	if len(again.Changes) != 0 {
		t.Errorf("re-creating the same bundle reported changes: %s", again.Raw)
	}
	if got := strings.Join(first.Manifest.Paths, ","); got != "compose.yaml,files/conf/app.conf" {
		t.Errorf("bundle holds %s (the input compose file and .env must stay out)", got)
	}

	v := call(t, "bundle.verify", false, map[string]any{"bundle": first.Bundle}).mustSucceed(t)
	if fieldsOf(t, v).SHA256 != first.SHA256 {
		t.Errorf("verify reports %s, create %s", fieldsOf(t, v).SHA256, first.SHA256)
	}

	// Deploy from the bundle: the file is inside every replica.
	r := call(t, "stack.present", false, map[string]any{"name": stack, "bundle": first.Bundle}).mustSucceed(t)
	if fieldsOf(t, r).Bundle != first.SHA256 || len(r.Changes) != 3 {
		t.Fatalf("deploy: %s", r.Raw)
	}
	everyReplicaHas(t, srv, stack, "/etc/app/app.conf", "version 1\n")
	everyReplicaHas(t, srv, stack, "/etc/motd", "managed by incus-fleet")
	if _, mode := instanceFile(t, srv, stack, "web-1", "/etc/motd"); mode != 0o440 {
		t.Errorf("/etc/motd mode %o, want the config's 0440", mode)
	}
	st := call(t, "stack.status", false, map[string]any{"name": stack}).mustSucceed(t)
	if fieldsOf(t, st).Bundle != first.SHA256 {
		t.Errorf("status shows bundle %q, want %s", fieldsOf(t, st).Bundle, first.SHA256)
	}

	// Same bundle again: nothing to do.
	r = call(t, "stack.present", false, map[string]any{"name": stack, "bundle": second.Bundle}).mustSucceed(t)
	if len(r.Changes) != 0 {
		t.Fatalf("re-deploying the same bundle changed something: %s", r.Raw)
	}

	// A tampered copy (one byte of the config file) is refused, naming it.
	tampered := filepath.Join(out, "tampered.tar.gz")
	if err := os.WriteFile(tampered, tamper(t, a, "files/conf/app.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := placement(t, srv, stack)
	for _, action := range []string{"bundle.verify", "stack.present"} {
		params := map[string]any{"bundle": tampered}
		if action == "stack.present" {
			params["name"] = stack
		}
		r := call(t, action, false, params)
		if r.Exit != 1 || r.Error == nil || r.Error.Code != "compose_invalid" || !strings.Contains(r.Error.Message, "files/conf/app.conf") ||
			!strings.Contains(r.Error.Message, "sha256 mismatch") {
			t.Errorf("%s accepted or misreported a tampered bundle: %s", action, r.Raw)
		}
	}
	if after := placement(t, srv, stack); names(after) != names(before) {
		t.Errorf("a refused bundle changed the stack: %v -> %v", before, after)
	}

	// The config file changes: a new bundle, a rolling update.
	if err := os.WriteFile(filepath.Join(dir, "conf/app.conf"), []byte("version 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	third := createBundle(t, dir, filepath.Join(out, "c.tar.gz"))
	if third.SHA256 == first.SHA256 {
		t.Fatal("editing the config file did not change the bundle")
	}
	r = call(t, "stack.present", false, map[string]any{"name": stack, "bundle": third.Bundle}).mustSucceed(t)
	replaced := 0
	for _, s := range r.Plan.Steps {
		if s.Op == "replace" {
			replaced++
		}
	}
	if replaced != 3 {
		t.Errorf("new bundle: %d replaces, want 3: %s", replaced, r.Raw)
	}
	everyReplicaHas(t, srv, stack, "/etc/app/app.conf", "version 2\n")
	if b := fieldsOf(t, call(t, "stack.status", false, map[string]any{"name": stack}).mustSucceed(t)).Bundle; b != third.SHA256 {
		t.Errorf("status shows %s after the update, want %s", b, third.SHA256)
	}

	// Rollback returns to the previous bundle, file content included.
	call(t, "stack.rollback", false, map[string]any{"name": stack}).mustSucceed(t)
	everyReplicaHas(t, srv, stack, "/etc/app/app.conf", "version 1\n")
	if b := fieldsOf(t, call(t, "stack.status", false, map[string]any{"name": stack}).mustSucceed(t)).Bundle; b != first.SHA256 {
		t.Errorf("status shows %s after rollback, want %s", b, first.SHA256)
	}
}

// TestBundleMissingImage: a bundle pinned to an image the cluster lacks
// fails with not_found naming the fingerprint, and creates nothing.
func TestBundleMissingImage(t *testing.T) {
	// Not parallel: t.Setenv (the bundle cache dir) is process-wide.
	srv := testbed(t)
	const stack = "it-bundle-noimage"
	cleanup(t, stack)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	const fp = "0000000000000000000000000000000000000000000000000000000000000abc"
	dir := t.TempDir()
	var buf bytes.Buffer
	_, err := bundle.Create(&buf, bundle.Source{Dir: dir, Compose: []byte("services:\n  web:\n    image: " + fp + "\n")})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pinned.tar.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r := call(t, "stack.present", false, map[string]any{"name": stack, "bundle": path})
	if r.Exit != 1 || r.Error == nil || r.Error.Code != "not_found" || !strings.Contains(r.Error.Message, fp) {
		t.Fatalf("want not_found naming %s: %s", fp, r.Raw)
	}
	if projectExists(t, srv, stack) {
		t.Error("a failed bundle deploy created the project")
	}
	// A bundle that does not exist is not_found too.
	r = call(t, "stack.present", false, map[string]any{"name": stack, "bundle": filepath.Join(dir, "nope.tar.gz")})
	if r.Error == nil || r.Error.Code != "not_found" {
		t.Errorf("missing bundle file: %s", r.Raw)
	}
}

// TestSupportFilesWithoutBundle: plain compose_files deploys get their
// bind-mounted files too, and editing one is a rolling update.
func TestSupportFilesWithoutBundle(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-bundle-plain"
	cleanup(t, stack)
	dir := bundleProject(t, "plain 1\n")
	files := []string{filepath.Join(dir, "compose.yaml")}
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_files": files}).mustSucceed(t)
	everyReplicaHas(t, srv, stack, "/etc/app/app.conf", "plain 1\n")
	if r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_files": files}).mustSucceed(t); len(r.Changes) != 0 {
		t.Fatalf("no-op re-apply changed %s", r.Raw)
	}
	if err := os.WriteFile(filepath.Join(dir, "conf/app.conf"), []byte("plain 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_files": files}).mustSucceed(t)
	if len(r.Changes) != 3 {
		t.Errorf("editing the file changed %d instances, want 3: %s", len(r.Changes), r.Raw)
	}
	everyReplicaHas(t, srv, stack, "/etc/app/app.conf", "plain 2\n")
}

// tamper flips one byte of one file inside a bundle, keeping its manifest.
func tamper(t *testing.T, data []byte, victim string) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if hdr.Name == victim {
			body[0] ^= 0x20
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	tw.Close()
	zw.Close()
	return out.Bytes()
}
