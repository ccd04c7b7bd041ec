package integration

import (
	"strings"
	"testing"
)

// TestMissingRootDiskFailsBeforeCreating: without a root disk in the
// default profile, stack.present says so while planning and creates
// nothing (the profile is restored afterwards).
func TestMissingRootDiskFailsBeforeCreating(t *testing.T) {
	srv := testbed(t)
	const stack = "it-no-root"
	cleanup(t, stack)
	profile, etag, err := srv.GetProfile("default")
	if err != nil {
		t.Fatal(err)
	}
	original := *profile
	stripped := *profile
	stripped.Devices = map[string]map[string]string{}
	if err := srv.UpdateProfile("default", stripped, etag); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, etag, _ := srv.GetProfile("default")
		if err := srv.UpdateProfile("default", original, etag); err != nil {
			t.Errorf("restore the default profile: %v", err)
		}
	})
	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": composeWeb(2)})
	if r.Exit != 1 || r.Error == nil || r.Error.Code != "not_found" || !strings.Contains(r.Error.Message, "no root disk") {
		t.Fatalf("want not_found naming the missing root disk, got %s", r.Raw)
	}
	if projectExists(t, srv, stack) {
		t.Error("the failed deploy created the project")
	}
}
