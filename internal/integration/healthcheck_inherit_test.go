package integration

import (
	"strings"
	"testing"
)

// TestHealthcheckWithoutTestOnIncusImage: a healthcheck without test runs
// the image's HEALTHCHECK when the image is an OCI one (the bed's Incus
// 6.0 has no instance_oci: that path is covered against the test registry
// in internal/incus, TestOCIImageHealthcheck). An Incus image has none to
// inherit, which the plan says once the image is resolved, and the
// service deploys without a check.
func TestHealthcheckWithoutTestOnIncusImage(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	testbed(t)
	const stack = "it-health-inherit"
	cleanup(t, stack)
	compose := "services:\n  web:\n    image: busybox\n    healthcheck:\n      interval: 5s\n      retries: 2\n"
	r := call(t, "stack.present", true, map[string]any{"name": stack, "compose_yaml": compose}).mustSucceed(t)
	want := `service "web": healthcheck without test: image busybox has no HEALTHCHECK to inherit (Incus images carry none), so no check runs; add healthcheck.test`
	if !strings.Contains(strings.Join(r.Warnings, "\n"), want) {
		t.Errorf("warnings %q lack %q", r.Warnings, want)
	}
	for _, w := range r.Warnings {
		if strings.Contains(w, "is not supported on Incus") && strings.Contains(w, "healthcheck") {
			t.Errorf("stale load-time warning: %s", w)
		}
	}
}
