package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"sync"
	"testing"
)

// TestConcurrentApplies runs two `incus-fleet call` processes on the same
// stack at once, concurrentRounds times, alternating the spec so both have work to do.
// The lock in Incus lets one act; the other waits and finds nothing left.
// Both must succeed and the stack must never hold a duplicate slot.
//
// Without the lock every round produced duplicates, so 8 rounds are enough
// to fail; more only made the suite longer.
const concurrentRounds = 8

func TestConcurrentApplies(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-concurrent"
	cleanup(t, stack)
	duplicates := 0
	for i := 0; i < concurrentRounds; i++ {
		compose := fmt.Sprintf("services:\n  web:\n    image: busybox\n    environment: {V: \"%d\"}\n    deploy:\n      replicas: 2\n      update_config: {monitor: 1ms, parallelism: 0}\n", i)
		req, _ := json.Marshal(map[string]any{"version": 1, "action": "stack.present",
			"params": map[string]any{"name": stack, "compose_yaml": compose}})
		var wg sync.WaitGroup
		outs := make([]string, 2)
		errs := make([]error, 2)
		for k := 0; k < 2; k++ {
			wg.Add(1)
			go func(k int) {
				defer wg.Done()
				cmd := exec.Command(binary(t), "call")
				cmd.Stdin = bytes.NewReader(req)
				var out bytes.Buffer
				cmd.Stdout = &out
				errs[k] = cmd.Run()
				outs[k] = out.String()
			}(k)
		}
		wg.Wait()
		for k := range errs {
			if errs[k] != nil {
				t.Fatalf("round %d, run %d failed (%v): %s", i, k, errs[k], outs[k])
			}
		}
		slots := map[string]int{}
		insts := placement(t, srv, stack)
		for name := range insts {
			slots[instanceConfig(t, srv, stack, name)["user.fleet.slot"]]++
		}
		for slot, n := range slots {
			if n > 1 {
				duplicates++
				t.Errorf("round %d: slot %s has %d instances: %v", i, slot, n, insts)
			}
		}
		if len(insts) != 2 {
			t.Errorf("round %d: %d instances, want 2: %v", i, len(insts), insts)
		}
	}
	t.Logf("%d rounds of two concurrent applies: %d duplicates", concurrentRounds, duplicates)
}
