package integration

import (
	"testing"
)

// checkDefaultRoot is issue 18's "three empty machines, no manual incus
// command" on the member bed's fresh cluster (its own daemons: the shared
// bed's default profile is never touched). A fresh default profile has no
// root disk, so no instance can be created; storage_pool.present with
// default_root gives it one on the pool, once, and refuses a second pool
// before creating it.
func checkDefaultRoot(t *testing.T, b *memberBed, m1 *bedClient) {
	t.Helper()
	if pool := profileRootPool(t, m1); pool != "" {
		t.Fatalf("the fresh daemon's default profile already has a root disk on %s", pool)
	}
	local := map[string]any{"name": "local", "driver": "dir", "default_root": true}
	r := b.call(t, "m1", "storage_pool.present", true, local).mustSucceed(t)
	if r.Result != nil || r.Changes["default_profile.root_pool"] == nil {
		t.Fatalf("default_root dry run: %s", r.Raw)
	}
	if pool := profileRootPool(t, m1); pool != "" {
		t.Fatalf("the dry run gave the default profile a root disk on %s", pool)
	}
	r = b.call(t, "m1", "storage_pool.present", false, local).mustSucceed(t)
	if len(r.Changes) != 1 || r.Changes["default_profile.root_pool"] == nil {
		t.Fatalf("default_root: want exactly the profile change, got %s", r.Raw)
	}
	if pool := profileRootPool(t, m1); pool != "local" {
		t.Fatalf("default profile root disk on %q after default_root, want local", pool)
	}
	mustNoChange(t, b.call(t, "m1", "storage_pool.present", false, local))

	// A second pool claiming the root disk: refused before the pool exists.
	other := map[string]any{"name": "other", "driver": "dir", "default_root": true}
	mustFail(t, b.call(t, "m1", "storage_pool.present", false, other), "conflict", "root disk \"root\" is on storage pool local, not other")
	if _, err := m1.GetStoragePool("other"); err == nil {
		t.Fatal("pool other was created although its default_root was refused")
	}
	if pool := profileRootPool(t, m1); pool != "local" {
		t.Fatalf("default profile root disk moved to %q", pool)
	}
}

// profileRootPool is the pool of the default profile's disk at /, read
// straight from Incus.
func profileRootPool(t *testing.T, srv *bedClient) string {
	t.Helper()
	p, _, err := srv.GetProfile("default")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range p.Devices {
		if d["type"] == "disk" && d["path"] == "/" {
			return d["pool"]
		}
	}
	return ""
}
