package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	incusclient "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"
)

// tenByThree is the benchmark stack: 10 services × 3 replicas.
func tenByThree() string {
	var b strings.Builder
	b.WriteString("services:\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&b, "  svc%d:\n    image: busybox\n    environment:\n      N: \"%d\"\n    deploy:\n      replicas: 3\n", i, i)
	}
	return b.String()
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds incus-fleet once, so benchmarks time the whole process as a
// user (or Salt) runs it.
func binary(b testing.TB) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "incus-fleet-bench")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "incus-fleet")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/incus-fleet").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return binPath
}

func runBinary(b testing.TB, req map[string]any) {
	data, _ := json.Marshal(req)
	cmd := exec.Command(binary(b), "call")
	cmd.Stdin = bytes.NewReader(data)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		b.Fatalf("incus-fleet call: %v\n%s\n%s", err, out.String(), errOut.String())
	}
}

func present(stack string) map[string]any {
	return map[string]any{"version": 1, "action": "stack.present", "params": map[string]any{"name": stack, "compose_yaml": tenByThree()}}
}

// BenchmarkDeploy10x3 times a fresh deploy of 30 instances, whole process.
func BenchmarkDeploy10x3(b *testing.B) {
	testbed(b)
	const stack = "bench-deploy"
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		call(b, "stack.absent", false, map[string]any{"name": stack})
		b.StartTimer()
		runBinary(b, present(stack))
	}
	b.StopTimer()
	call(b, "stack.absent", false, map[string]any{"name": stack})
}

// BenchmarkNoopReapply times re-applying an unchanged 30-instance stack.
func BenchmarkNoopReapply(b *testing.B) {
	testbed(b)
	const stack = "bench-noop"
	runBinary(b, present(stack))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runBinary(b, present(stack))
	}
	b.StopTimer()
	call(b, "stack.absent", false, map[string]any{"name": stack})
}

// BenchmarkBaselineClient10x3 is the baseline: the same 30 instances created
// and started with the Incus Go client directly, 4 at a time (the executor's
// concurrency), targeted round-robin. No compose, no planning, no checks.
func BenchmarkBaselineClient10x3(b *testing.B) {
	srv := testbed(b)
	const project = "bench-baseline"
	members := []string{"node1", "node2", "node3"}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		_ = srv.CreateProject(api.ProjectsPost{Name: project, ProjectPut: api.ProjectPut{Config: map[string]string{
			"features.images": "false", "features.profiles": "false", "features.storage.volumes": "false"}}})
		b.StartTimer()
		sem := make(chan struct{}, 4)
		var wg sync.WaitGroup
		for n := 0; n < 30; n++ {
			wg.Add(1)
			sem <- struct{}{}
			go func(n int) {
				defer func() { <-sem; wg.Done() }()
				baselineLaunch(b, srv.UseProject(project).UseTarget(members[n%3]), fmt.Sprintf("b-%d", n))
			}(n)
		}
		wg.Wait()
		b.StopTimer()
		cleanupProject(b, srv, project)
	}
}

func baselineLaunch(b *testing.B, srv incusclient.InstanceServer, name string) {
	op, err := srv.CreateInstance(api.InstancesPost{Name: name, Source: api.InstanceSource{Type: "image", Alias: "busybox"},
		InstancePut: api.InstancePut{Profiles: []string{"default"}}})
	if err == nil {
		err = op.Wait()
	}
	if err == nil {
		op, err = srv.UpdateInstanceState(name, api.InstanceStatePut{Action: "start", Timeout: -1}, "")
	}
	if err == nil {
		err = op.Wait()
	}
	if err != nil {
		b.Errorf("baseline launch %s: %v", name, err)
	}
}

func cleanupProject(b *testing.B, srv incusclient.InstanceServer, project string) {
	insts, _ := srv.UseProject(project).GetInstances(api.InstanceTypeAny)
	for _, in := range insts {
		if op, err := srv.UseProject(project).UpdateInstanceState(in.Name, api.InstanceStatePut{Action: "stop", Force: true, Timeout: -1}, ""); err == nil {
			_ = op.Wait()
		}
		if op, err := srv.UseProject(project).DeleteInstance(in.Name); err == nil {
			_ = op.Wait()
		}
	}
	_ = srv.DeleteProject(project)
}
