package bundle

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func writeBundle(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "app.tar.gz")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExtractIntoContentAddressedDir(t *testing.T) {
	dir := sampleProject(t)
	if err := os.WriteFile(filepath.Join(dir, "run.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, res := create(t, sampleSource(dir))
	cache := t.TempDir()
	o, err := Extract(writeBundle(t, data), cache, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Dir != filepath.Join(cache, res.SHA256) || o.SHA256 != res.SHA256 || o.Size != int64(len(data)) {
		t.Fatalf("opened %+v, created %s", o, res.SHA256)
	}
	if b, err := os.ReadFile(o.ComposeFile()); err != nil || string(b) != testCompose {
		t.Errorf("compose file %q, %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(o.ProjectDir(), "nginx.conf")); err != nil || string(b) != "worker_processes 1;\n" {
		t.Errorf("nginx.conf %q, %v", b, err)
	}
	if st, err := os.Stat(filepath.Join(o.ProjectDir(), "run.sh")); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("run.sh: %v %v", st.Mode(), err)
	}
	onlyDigestDirs(t, cache, res.SHA256)

	// Again: the same directory, reused.
	again, err := Extract(writeBundle(t, data), cache, Limits{})
	if err != nil || again.Dir != o.Dir {
		t.Fatalf("second extraction: %+v, %v", again, err)
	}
	// Damaged since (someone edited the cache): replaced by a fresh copy.
	if err := os.WriteFile(filepath.Join(o.ProjectDir(), "nginx.conf"), []byte("evil"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Extract(writeBundle(t, data), cache, Limits{}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(o.ProjectDir(), "nginx.conf")); string(b) != "worker_processes 1;\n" {
		t.Errorf("damaged cache entry kept: %q", b)
	}
	// A file removed from it: replaced too.
	if err := os.Remove(filepath.Join(o.ProjectDir(), "nginx.conf")); err != nil {
		t.Fatal(err)
	}
	if _, err := Extract(writeBundle(t, data), cache, Limits{}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(o.ProjectDir(), "nginx.conf")); string(b) != "worker_processes 1;\n" {
		t.Errorf("cache entry with a missing file kept: %q", b)
	}
	onlyDigestDirs(t, cache, res.SHA256)
}

func TestExtractLeavesNothingForABadBundle(t *testing.T) {
	data, _ := create(t, sampleSource(sampleProject(t)))
	tampered := rewrite(t, data, func(name string, body []byte) []byte {
		if name == "files/nginx.conf" {
			return bytes.ToUpper(body)
		}
		return body
	})
	cache := t.TempDir()
	_, err := Extract(writeBundle(t, tampered), cache, Limits{})
	wantRefused(t, err, "files/nginx.conf", "sha256 mismatch")
	onlyDigestDirs(t, cache)

	_, err = Extract(filepath.Join(t.TempDir(), "missing.tar.gz"), cache, Limits{})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing bundle: %v", err)
	}
}

// onlyDigestDirs asserts the cache holds exactly the given entries: no
// staging directory survives.
func onlyDigestDirs(t *testing.T, cache string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(cache)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if len(got) != len(want) || (len(want) > 0 && got[0] != want[0]) {
		t.Errorf("cache holds %v, want %v", got, want)
	}
}

func TestCacheDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	if d, err := CacheDir(); err != nil || d != "/x/cache/incus-fleet/bundles" {
		t.Errorf("CacheDir = %q, %v", d, err)
	}
}
