package integration

import (
	"fmt"
	"testing"
)

// rollingCompose is a 3-replica service updated one slot at a time with no
// delay and a 1 ms monitor window, so the update's time is nearly all work.
func rollingCompose(v int) string {
	return fmt.Sprintf(`
services:
  web:
    image: busybox
    environment: {V: "%d"}
    deploy:
      replicas: 3
      update_config: {parallelism: 1, monitor: 1ms}
`, v)
}

// BenchmarkRollingUpdate3 times one rolling update of 3 replicas (stop-first,
// parallelism 1), whole process.
func BenchmarkRollingUpdate3(b *testing.B) {
	testbed(b)
	const stack = "bench-rolling"
	runBinary(b, map[string]any{"version": 1, "action": "stack.present", "params": map[string]any{"name": stack, "compose_yaml": rollingCompose(0)}})
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		runBinary(b, map[string]any{"version": 1, "action": "stack.present", "params": map[string]any{"name": stack, "compose_yaml": rollingCompose(i)}})
	}
	b.StopTimer()
	call(b, "stack.absent", false, map[string]any{"name": stack})
}

// BenchmarkBaselineRollingWork3 is the raw work of that update with the
// Incus client: per slot, stop and delete the old instance, then create and
// start the new one, slot after slot.
func BenchmarkBaselineRollingWork3(b *testing.B) {
	srv := testbed(b)
	const project = "bench-rolling-base"
	members := []string{"node1", "node2", "node3"}
	createBenchProject(b, srv, project)
	p := srv.UseProject(project)
	for n := 0; n < 3; n++ {
		baselineLaunch(b, p.UseTarget(members[n]), fmt.Sprintf("r-%d", n))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for n := 0; n < 3; n++ {
			name := fmt.Sprintf("r-%d", n)
			_ = p.SetInstanceState(name, "stop")
			_ = p.DeleteInstance(name)
			baselineLaunch(b, p.UseTarget(members[n]), name)
		}
	}
	b.StopTimer()
	cleanupProject(b, srv, project)
}
