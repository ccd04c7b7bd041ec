package integration

import (
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/incus"
)

// TestNoopRequestsAreConstant: a no-op re-apply costs the same number of
// Incus API requests for 1 instance as for 30, not one per instance.
func TestNoopRequestsAreConstant(t *testing.T) {
	testbed(t)
	counts := map[string]int64{}
	for stack, yaml := range map[string]string{"it-req-small": composeWeb(1), "it-req-big": tenByThree()} {
		cleanup(t, stack)
		call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": yaml}).mustSucceed(t)
		before := incus.TotalRequests()
		r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": yaml}).mustSucceed(t)
		counts[stack] = incus.TotalRequests() - before
		if len(r.Changes) != 0 {
			t.Fatalf("%s: re-apply changed %s", stack, r.Raw)
		}
	}
	t.Logf("no-op re-apply: %d requests for 1 instance, %d for 30", counts["it-req-small"], counts["it-req-big"])
	if counts["it-req-small"] != counts["it-req-big"] || counts["it-req-big"] == 0 {
		t.Errorf("requests grow with the stack: %v", counts)
	}
}
