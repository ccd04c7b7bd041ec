package rollout

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// recorder is a fake actuator for the pure ordering logic: it logs when
// each create starts and ends. The real-cluster test is
// integration.TestComposeRuntimeMappings.
type recorder struct {
	mu           sync.Mutex
	events       []string
	fail         map[string]bool
	active, peak int
}

func (a *recorder) Create(ctx context.Context, s model.Step) error {
	a.mu.Lock()
	a.events = append(a.events, "start "+s.Instance)
	a.active++
	a.peak = max(a.peak, a.active)
	a.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.active--
	a.events = append(a.events, "end "+s.Instance)
	if a.fail[s.Instance] {
		return errors.New("boom")
	}
	return nil
}
func (a *recorder) Delete(context.Context, model.Step, string) error { return nil }
func (a *recorder) GatePassed(context.Context, model.Step) error     { return nil }
func (a *recorder) Running(context.Context, string) (bool, error)    { return true, nil }
func (a *recorder) Probe(context.Context, string, []string, time.Duration) (bool, error) {
	return true, nil
}

func indexOf(events []string, e string) int {
	for i, x := range events {
		if x == e {
			return i
		}
	}
	return -1
}

func stackOf(deps map[string][]string) (*model.Stack, model.Plan) {
	st := &model.Stack{Name: "s"}
	plan := model.Plan{Stack: "s"}
	for _, name := range []string{"a", "b", "c", "d"} {
		svc := model.Service{Name: name}
		for _, d := range deps[name] {
			svc.DependsOn = append(svc.DependsOn, model.Dependency{Service: d, Condition: model.DependsHealthy, Required: true})
		}
		st.Services = append(st.Services, svc)
		for slot := 1; slot <= 2; slot++ {
			plan.Steps = append(plan.Steps, model.Step{Op: model.OpCreate, Service: name, Slot: slot, Instance: name + "-" + string(rune('0'+slot)), Member: "n1"})
		}
	}
	return st, plan
}

func TestCreatesFollowDependsOn(t *testing.T) {
	// d depends on a and b; c is independent.
	st, plan := stackOf(map[string][]string{"d": {"a", "b"}})
	act := &recorder{}
	if _, err := Execute(context.Background(), plan, st, act, Options{Concurrency: 4}); err != nil {
		t.Fatal(err)
	}
	for _, dep := range []string{"a-1", "a-2", "b-1", "b-2"} {
		for _, d := range []string{"d-1", "d-2"} {
			if indexOf(act.events, "end "+dep) > indexOf(act.events, "start "+d) {
				t.Errorf("%s started before its dependency %s was created: %v", d, dep, act.events)
			}
		}
	}
	if act.peak < 4 {
		t.Errorf("independent services ran at most %d at once, want the full concurrency of 4: %v", act.peak, act.events)
	}
}

func TestFailedDependencyStopsDependents(t *testing.T) {
	st, plan := stackOf(map[string][]string{"b": {"a"}})
	act := &recorder{fail: map[string]bool{"a-1": true}}
	out, err := Execute(context.Background(), plan, st, act, Options{})
	if err == nil || !strings.Contains(err.Error(), "its dependency a did not become ready") {
		t.Fatalf("err = %v", err)
	}
	if indexOf(act.events, "start b-1") >= 0 {
		t.Errorf("b was created although a failed: %v", act.events)
	}
	if len(out.Failed) != 3 { // a-1, b-1, b-2
		t.Errorf("failed %v", out.Failed)
	}
}

func TestDependencyCycleIsAnError(t *testing.T) {
	st, _ := stackOf(map[string][]string{"a": {"b"}, "b": {"c"}, "c": {"a"}})
	_, err := dependencyOrder(st, []string{"a", "b", "c", "d"})
	if err == nil || !strings.Contains(err.Error(), "a -> b -> c -> a") {
		t.Fatalf("err = %v", err)
	}
}

func TestStartIntervalDuringStartPeriod(t *testing.T) {
	hc := &model.Healthcheck{Interval: 30 * time.Second, StartPeriod: 10 * time.Second, StartInterval: time.Second}
	if got := probeInterval(hc, 2*time.Second); got != time.Second {
		t.Errorf("during start period: %s", got)
	}
	if got := probeInterval(hc, 11*time.Second); got != 30*time.Second {
		t.Errorf("after start period: %s", got)
	}
}

// stopping fails to read the state a few times (Incus answers "Invalid PID"
// for a container that is shutting down), then reports it stopped.
type stopping struct {
	recorder
	reads int
}

func (a *stopping) Running(context.Context, string) (bool, error) {
	a.reads++
	if a.reads <= 3 {
		return false, errors.New("Invalid PID")
	}
	return false, nil
}

func TestCompletedDependencyToleratesShutdownReads(t *testing.T) {
	st := &model.Stack{Name: "s", Services: []model.Service{
		{Name: "job"},
		{Name: "app", DependsOn: []model.Dependency{{Service: "job", Condition: model.DependsCompleted, Required: true}}},
	}}
	plan := model.Plan{Stack: "s", Steps: []model.Step{
		{Op: model.OpCreate, Service: "job", Slot: 1, Instance: "job-1"},
		{Op: model.OpCreate, Service: "app", Slot: 1, Instance: "app-1"},
	}}
	act := &stopping{}
	if _, err := Execute(context.Background(), plan, st, act, Options{}); err != nil {
		t.Fatal(err)
	}
	if act.reads != 4 || indexOf(act.events, "end job-1") > indexOf(act.events, "start app-1") {
		t.Errorf("reads %d, events %v", act.reads, act.events)
	}
}
