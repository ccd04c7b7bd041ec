package integration

import (
	"strings"
	"testing"
)

// TestOCIImageOnOldIncus: the test bed runs Incus 6.0.4, which has no
// instance_oci extension: a Docker image reference fails before anything is
// created, naming the Incus version needed and the alternatives.
func TestOCIImageOnOldIncus(t *testing.T) {
	srv := testbed(t)
	const stack = "it-oci"
	cleanup(t, stack)
	r := call(t, "stack.present", false, map[string]any{"name": stack,
		"compose_yaml": "services:\n  db:\n    image: postgres:16\n  web:\n    image: busybox\n"})
	if r.Exit == 0 || r.Error == nil || r.Error.Code != "not_found" {
		t.Fatalf("want not_found: %s", r.Raw)
	}
	for _, want := range []string{`service "db"`, `image "postgres:16" not found`, "as a Docker (OCI) image reference", "Incus 6.3 or later", "instance_oci", "this cluster runs Incus 6.0", "x-incus: {image: <alias>}"} {
		if !strings.Contains(r.Error.Message, want) {
			t.Errorf("message lacks %q: %s", want, r.Error.Message)
		}
	}
	if projectExists(t, srv, stack) {
		t.Error("a refused image created the stack's project")
	}
}
