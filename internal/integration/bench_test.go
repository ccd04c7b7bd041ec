package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/rollout"
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
		out, err := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", binPath, "../../cmd/incus-fleet").CombinedOutput()
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
	// The baseline the report compares with runs at this same concurrency.
	b.ReportMetric(float64(rollout.DefaultConcurrency), "workers")
	call(b, "stack.absent", false, map[string]any{"name": stack})
}

// BenchmarkNoopReapply times re-applying an unchanged 30-instance stack and
// reports the Incus API requests it makes.
func BenchmarkNoopReapply(b *testing.B) {
	testbed(b)
	const stack = "bench-noop"
	runBinary(b, present(stack))
	b.ResetTimer()
	requests := 0
	for i := 0; i < b.N; i++ {
		requests = runBinaryStats(b, present(stack))
	}
	b.StopTimer()
	b.ReportMetric(float64(requests), "requests/op")
	call(b, "stack.absent", false, map[string]any{"name": stack})
}

var statsLine = regexp.MustCompile(`made (\d+) Incus API requests`)

// runBinaryStats runs a request and returns the Incus API requests it made.
func runBinaryStats(b testing.TB, req map[string]any) int {
	data, _ := json.Marshal(req)
	cmd := exec.Command(binary(b), "call")
	cmd.Stdin = bytes.NewReader(data)
	cmd.Env = append(os.Environ(), "INCUS_FLEET_STATS=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		b.Fatalf("incus-fleet call: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	m := statsLine.FindStringSubmatch(errOut.String())
	if m == nil {
		b.Fatalf("no request count on stderr: %s", errOut.String())
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// BenchmarkBaselineClient10x3 is baseline (a): the same 30 instances created
// and started with raw REST calls (POST /instances, PUT state, each waited
// for through /operations/{id}/wait) on our client, round-robin over
// members, at several parallelisms. The report compares incus-fleet with
// the run at its own concurrency (rollout.DefaultConcurrency) and shows the
// others. No compose, no plan, no lock, no record.
func BenchmarkBaselineClient10x3(b *testing.B) {
	srv := testbed(b)
	for _, par := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("p%d", par), func(b *testing.B) {
			const project = "bench-baseline"
			members := []string{"node1", "node2", "node3"}
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				createBenchProject(b, srv, project)
				b.StartTimer()
				sem := make(chan struct{}, par)
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
		})
	}
}

// BenchmarkBaselineCLI10x3 is baseline (b): a sequential loop of
// `incus launch --target`, as a shell script would deploy.
func BenchmarkBaselineCLI10x3(b *testing.B) {
	srv := testbed(b)
	const project = "bench-cli"
	members := []string{"node1", "node2", "node3"}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		createBenchProject(b, srv, project)
		b.StartTimer()
		for n := 0; n < 30; n++ {
			out, err := exec.Command("incus", "launch", "busybox", fmt.Sprintf("c-%d", n), "--target", members[n%3], "--project", project).CombinedOutput()
			if err != nil {
				b.Fatalf("incus launch: %v\n%s", err, out)
			}
		}
		b.StopTimer()
		cleanupProject(b, srv, project)
	}
}

// BenchmarkVersion times starting the binary.
func BenchmarkVersion(b *testing.B) {
	bin := binary(b)
	for i := 0; i < b.N; i++ {
		if out, err := exec.Command(bin, "version").CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}

// BenchmarkInvalidCall times the rejection of an invalid request.
func BenchmarkInvalidCall(b *testing.B) {
	bin := binary(b)
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "call")
		cmd.Stdin = strings.NewReader(`{"version":1,"action":"stack.plan"}`)
		if err := cmd.Run(); err == nil {
			b.Fatal("an invalid request succeeded")
		}
	}
}

func createBenchProject(b *testing.B, srv *bedClient, project string) {
	_ = srv.CreateProject(project, map[string]string{
		"features.images": "false", "features.profiles": "false", "features.storage.volumes": "false"})
}

// baselineLaunch creates and starts one instance with two raw REST calls
// on our client (no compose, no plan, no lock): the floor for a deploy.
func baselineLaunch(b *testing.B, srv *bedClient, name string) {
	err := srv.CreateInstance(incus.InstancesPost{Name: name, Type: incus.InstanceTypeContainer,
		Source: incus.InstanceSource{Type: "image", Fingerprint: busyboxFingerprint(b, srv)}, Profiles: []string{"default"}})
	if err == nil {
		err = srv.SetInstanceState(name, "start")
	}
	if err != nil {
		b.Errorf("baseline launch %s: %v", name, err)
	}
}

func cleanupProject(b *testing.B, srv *bedClient, project string) {
	p := srv.UseProject(project)
	insts, _ := p.GetInstances()
	for _, in := range insts {
		_ = p.SetInstanceState(in.Name, "stop")
		_ = p.DeleteInstance(in.Name)
	}
	_ = srv.DeleteProject(project)
}

var (
	fingerprintOnce sync.Once
	fingerprint     string
)

// busyboxFingerprint resolves the test image once, so the baseline creates
// from the fingerprint as incus-fleet does (it pins every image).
func busyboxFingerprint(b testing.TB, srv *bedClient) string {
	fingerprintOnce.Do(func() {
		target, err := srv.GetImageAlias("busybox")
		if err != nil {
			b.Fatalf("resolve busybox: %v", err)
		}
		fingerprint = target
	})
	return fingerprint
}
