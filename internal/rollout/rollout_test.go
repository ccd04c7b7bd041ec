package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// fakeActuator records every call in order and fails where told. It is a
// pure stand-in for Incus: the executor's decisions (order, batches,
// failure actions, the gate) are what these tests check.
type fakeActuator struct {
	mu           sync.Mutex
	log          []string
	failCreate   map[string]bool // instance → create fails
	unhealthy    map[string]bool // instance → probe never passes
	stopsAfter   map[string]int  // instance → Running is false after n polls
	polls        map[string]int
	inFlight     int
	maxInFlight  int
	createHold   time.Duration // keeps creates in flight, to observe overlap
	deleteOwners []string      // "instance service/slot" of each delete
}

func newFake() *fakeActuator {
	return &fakeActuator{failCreate: map[string]bool{}, unhealthy: map[string]bool{}, stopsAfter: map[string]int{}, polls: map[string]int{}}
}

func (f *fakeActuator) add(entry string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, entry)
}

func (f *fakeActuator) Create(ctx context.Context, s model.Step) error {
	f.mu.Lock()
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.inFlight--; f.mu.Unlock() }()
	if f.createHold > 0 {
		time.Sleep(f.createHold)
	}
	f.add("create " + s.Instance)
	if f.failCreate[s.Instance] {
		return fmt.Errorf("create %s: boom", s.Instance)
	}
	return nil
}

func (f *fakeActuator) Delete(ctx context.Context, s model.Step, instance string) error {
	f.add("delete " + instance)
	f.mu.Lock()
	f.deleteOwners = append(f.deleteOwners, fmt.Sprintf("%s %s/%d", instance, s.Service, s.Slot))
	f.mu.Unlock()
	return nil
}

func (f *fakeActuator) Running(ctx context.Context, instance string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.polls[instance]++
	n, ok := f.stopsAfter[instance]
	return !ok || f.polls[instance] <= n, nil
}

func (f *fakeActuator) Probe(ctx context.Context, instance string, test []string, timeout time.Duration) (bool, error) {
	f.add("probe " + instance)
	return !f.unhealthy[instance], nil
}

func (f *fakeActuator) GatePassed(ctx context.Context, s model.Step) error {
	f.add("gate-passed " + s.Instance)
	return nil
}

func (f *fakeActuator) entries(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, e := range f.log {
		if strings.HasPrefix(e, prefix) {
			out = append(out, e)
		}
	}
	return out
}

func service(name string, uc model.UpdateConfig, hc *model.Healthcheck) model.Service {
	return model.Service{Name: name, Healthcheck: hc, Deploy: model.DeploySpec{UpdateConfig: uc}}
}

// replaces is one replace step per slot, batched by parallelism p (0 = all).
func replaces(svc string, slots int, p int, order string) []model.Step {
	var out []model.Step
	for i := 1; i <= slots; i++ {
		b := 1
		if p > 0 {
			b = (i-1)/p + 1
		}
		name := fmt.Sprintf("%s-%d", svc, i)
		newName := name
		if order == model.OrderStartFirst {
			newName += "-b"
		}
		out = append(out, model.Step{Op: model.OpReplace, Service: svc, Slot: i, Instance: newName, OldInstance: name,
			Reason: model.ReasonConfigChanged, Order: order, Batch: b})
	}
	return out
}

func run(t *testing.T, f *fakeActuator, steps []model.Step, services ...model.Service) (Outcome, error) {
	t.Helper()
	stack := &model.Stack{Name: "s", Services: services}
	return Execute(context.Background(), model.Plan{Stack: "s", Steps: steps}, stack, f, Options{Concurrency: 8})
}

// TestExecuteOrder: duplicate-slot deletes first (they may hold a name a
// replace needs), then rolling replaces by service name, then creates,
// then other deletes: capacity is added before it is removed.
func TestExecuteOrder(t *testing.T) {
	f := newFake()
	uc := model.UpdateConfig{Parallelism: 1}
	steps := []model.Step{
		{Op: model.OpDelete, Service: "web", Slot: 9, Instance: "web-9", Reason: model.ReasonScaleDown},
		{Op: model.OpCreate, Service: "web", Slot: 3, Instance: "web-3", Reason: model.ReasonMissing},
	}
	steps = append(steps, replaces("web", 1, 1, model.OrderStopFirst)...)
	steps = append(steps, replaces("api", 1, 1, model.OrderStopFirst)...)
	steps = append(steps, model.Step{Op: model.OpDelete, Service: "web", Slot: 1, Instance: "web-1-x", Reason: model.ReasonDuplicateSlot})
	steps = append(steps, model.Step{Op: model.OpKeep, Service: "web", Slot: 2, Instance: "web-2"})
	if _, err := run(t, f, steps, service("api", uc, nil), service("web", uc, nil)); err != nil {
		t.Fatal(err)
	}
	want := []string{"delete web-1-x", "delete api-1", "create api-1", "gate-passed api-1", "delete web-1", "create web-1", "gate-passed web-1", "create web-3", "delete web-9"}
	got := slices.DeleteFunc(slices.Clone(f.log), func(e string) bool { return strings.HasPrefix(e, "probe") })
	if !slices.Equal(got, want) {
		t.Errorf("order\n got %v\nwant %v", got, want)
	}
	// Every delete names the slot it acts for (the actuator checks the
	// instance's ownership against it).
	if !slices.Contains(f.deleteOwners, "web-9 web/9") || !slices.Contains(f.deleteOwners, "web-1-x web/1") {
		t.Errorf("deletes without their owner: %v", f.deleteOwners)
	}
}

// TestUpdateOrderPerSlot: stop-first removes the old instance before the
// new one starts; start-first starts and gates the new one first and only
// then removes the old one.
func TestUpdateOrderPerSlot(t *testing.T) {
	cases := []struct {
		order string
		want  []string
	}{
		{model.OrderStopFirst, []string{"delete web-1", "create web-1", "gate-passed web-1"}},
		{model.OrderStartFirst, []string{"create web-1-b", "gate-passed web-1-b", "delete web-1"}},
	}
	for _, c := range cases {
		t.Run(c.order, func(t *testing.T) {
			f := newFake()
			if _, err := run(t, f, replaces("web", 1, 1, c.order), service("web", model.UpdateConfig{Parallelism: 1}, nil)); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.log, c.want) {
				t.Errorf("got %v, want %v", f.log, c.want)
			}
		})
	}
}

// TestParallelism: a batch's slots run together (up to parallelism), and
// the next batch starts only once the previous one is done.
func TestParallelism(t *testing.T) {
	for _, p := range []int{1, 2, 0} {
		t.Run(fmt.Sprintf("parallelism %d", p), func(t *testing.T) {
			f := newFake()
			f.createHold = 20 * time.Millisecond
			if _, err := run(t, f, replaces("web", 4, p, model.OrderStopFirst), service("web", model.UpdateConfig{Parallelism: p}, nil)); err != nil {
				t.Fatal(err)
			}
			want := p
			if p == 0 {
				want = 4
			}
			if f.maxInFlight != want {
				t.Errorf("at most %d creates ran together, want %d", f.maxInFlight, want)
			}
			// Batches do not interleave: slot k's delete comes after every
			// gate of the batches before it.
			pos := map[string]int{}
			for i, e := range f.log {
				pos[e] = i
			}
			for k := 1; k <= 4; k++ {
				for j := 1; j <= 4; j++ {
					bk, bj := batchOf(k, p), batchOf(j, p)
					if bj < bk && pos[fmt.Sprintf("gate-passed web-%d", j)] > pos[fmt.Sprintf("delete web-%d", k)] {
						t.Errorf("slot %d (batch %d) started before slot %d (batch %d) passed its gate: %v", k, bk, j, bj, f.log)
					}
				}
			}
		})
	}
}

func batchOf(slot, p int) int {
	if p == 0 {
		return 1
	}
	return (slot-1)/p + 1
}

// TestFailureActions: pause stops after the failing batch and names the
// slot; continue goes on (the failure is still reported); rollback asks
// the caller to roll back; max_failure_ratio tolerates failures up to it.
func TestFailureActions(t *testing.T) {
	unhealthy := &model.Healthcheck{Test: []string{"CMD", "check"}, Retries: 1}
	cases := []struct {
		name     string
		uc       model.UpdateConfig
		creates  int // creates attempted
		paused   bool
		rollback bool
		failed   bool // some error at all
	}{
		{"pause", model.UpdateConfig{Parallelism: 1, FailureAction: "pause"}, 1, true, false, true},
		{"default is pause", model.UpdateConfig{Parallelism: 1}, 1, true, false, true},
		{"continue", model.UpdateConfig{Parallelism: 1, FailureAction: "continue"}, 3, false, false, true},
		{"rollback", model.UpdateConfig{Parallelism: 1, FailureAction: "rollback"}, 1, false, true, true},
		{"ratio tolerates one of three", model.UpdateConfig{Parallelism: 1, FailureAction: "pause", MaxFailureRatio: 0.34}, 3, false, false, true},
		{"ratio below one failure of three", model.UpdateConfig{Parallelism: 1, FailureAction: "pause", MaxFailureRatio: 0.2}, 1, true, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake()
			f.unhealthy["web-1"] = true
			_, err := run(t, f, replaces("web", 3, 1, model.OrderStopFirst), service("web", c.uc, unhealthy))
			if n := len(f.entries("create")); n != c.creates {
				t.Errorf("%d creates, want %d: %v", n, c.creates, f.log)
			}
			var pe *PausedError
			var re *RollbackError
			if errors.As(err, &pe) != c.paused {
				t.Errorf("paused = %v, want %v (%v)", !c.paused, c.paused, err)
			}
			if c.paused && (pe.Service != "web" || !slices.Equal(pe.Slots, []int{1}) || !slices.Equal(pe.Failed, []string{"web-1"})) {
				t.Errorf("paused at %+v, want web slot 1", pe)
			}
			if errors.As(err, &re) != c.rollback {
				t.Errorf("rollback = %v, want %v (%v)", !c.rollback, c.rollback, err)
			}
			if (err != nil) != c.failed {
				t.Errorf("err = %v, want failure %v", err, c.failed)
			}
			if slices.Contains(f.log, "gate-passed web-1") {
				t.Error("the unhealthy slot was recorded as having passed its gate")
			}
		})
	}
}

// TestStartFirstFailureKeepsOld: a start-first replacement that never gets
// healthy is removed again and the old instance keeps serving.
func TestStartFirstFailureKeepsOld(t *testing.T) {
	f := newFake()
	f.unhealthy["web-1-b"] = true
	hc := &model.Healthcheck{Test: []string{"CMD", "check"}, Retries: 1}
	_, err := run(t, f, replaces("web", 1, 1, model.OrderStartFirst), service("web", model.UpdateConfig{Parallelism: 1}, hc))
	if !errors.As(err, new(*PausedError)) {
		t.Fatalf("want paused, got %v", err)
	}
	if got := f.entries("delete"); !slices.Equal(got, []string{"delete web-1-b"}) {
		t.Errorf("deletes %v: want only the failed new instance, never the old one", got)
	}
}

// TestGateRerun: an update step (an instance a killed run left unproven)
// re-runs the gate in place: no create, no delete, then it is recorded as
// passed; an unhealthy one pauses and is not recorded.
func TestGateRerun(t *testing.T) {
	hc := &model.Healthcheck{Test: []string{"CMD", "check"}, Retries: 1}
	step := model.Step{Op: model.OpUpdate, Service: "web", Slot: 1, Instance: "web-1", Reason: model.ReasonGatePending, Batch: 1}
	f := newFake()
	if _, err := run(t, f, []model.Step{step}, service("web", model.UpdateConfig{Parallelism: 1}, hc)); err != nil {
		t.Fatal(err)
	}
	if want := []string{"probe web-1", "gate-passed web-1"}; !slices.Equal(f.log, want) {
		t.Errorf("got %v, want %v", f.log, want)
	}
	f = newFake()
	f.unhealthy["web-1"] = true
	if _, err := run(t, f, []model.Step{step}, service("web", model.UpdateConfig{Parallelism: 1}, hc)); !errors.As(err, new(*PausedError)) {
		t.Errorf("an unhealthy survivor: want paused, got %v", err)
	}
	if len(f.entries("create"))+len(f.entries("delete"))+len(f.entries("gate-passed")) != 0 {
		t.Errorf("an unhealthy survivor was touched or passed: %v", f.log)
	}
}

// TestMonitorWindow: a new instance that stops during the monitor window
// fails its gate; one still running at its end passes. Without a monitor
// the state is checked once.
func TestMonitorWindow(t *testing.T) {
	cases := []struct {
		name       string
		monitor    time.Duration
		stopsAfter int // polls while running; -1 = never stops
		wantErr    string
	}{
		{"stops during the window", 600 * time.Millisecond, 1, "stopped during the monitor window"},
		{"runs through the window", 300 * time.Millisecond, -1, ""},
		{"no window: one look", 0, -1, ""},
		{"no window, already stopped", 0, 0, "stopped during the monitor window"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake()
			if c.stopsAfter >= 0 {
				f.stopsAfter["web-1"] = c.stopsAfter
			}
			_, err := run(t, f, replaces("web", 1, 1, model.OrderStopFirst),
				service("web", model.UpdateConfig{Parallelism: 1, Monitor: c.monitor, FailureAction: "continue"}, nil))
			if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Errorf("err = %v, want %q", err, c.wantErr)
			}
			if c.monitor > 0 && c.stopsAfter < 0 && f.polls["web-1"] < 2 {
				t.Errorf("the monitor window looked %d times; it must keep looking until the window ends", f.polls["web-1"])
			}
		})
	}
}

// TestHealthcheckStartPeriod: failures inside start_period do not count;
// after it, `retries` consecutive failures make the instance unhealthy.
func TestHealthcheckStartPeriod(t *testing.T) {
	f := newFake()
	f.unhealthy["web-1"] = true
	hc := &model.Healthcheck{Test: []string{"CMD", "check"}, Retries: 3, Interval: time.Millisecond}
	_, err := run(t, f, replaces("web", 1, 1, model.OrderStopFirst), service("web", model.UpdateConfig{Parallelism: 1}, hc))
	if err == nil || !strings.Contains(err.Error(), "failed 3 times in a row") {
		t.Fatalf("want unhealthy after 3 failures, got %v", err)
	}
	if n := len(f.entries("probe")); n != 3 {
		t.Errorf("%d probes, want exactly retries=3 without a start period", n)
	}
}

// TestPausedUnhealthyOrInfrastructure: a pause says whether the new
// version failed its gate (the update then stays paused) or the cluster
// failed an operation (applying again retries).
func TestPausedUnhealthyOrInfrastructure(t *testing.T) {
	hc := &model.Healthcheck{Test: []string{"CMD", "check"}, Retries: 1}
	uc := model.UpdateConfig{Parallelism: 1}
	f := newFake()
	f.unhealthy["web-1"] = true
	_, err := run(t, f, replaces("web", 2, 1, model.OrderStopFirst), service("web", uc, hc))
	var pe *PausedError
	if !errors.As(err, &pe) || !pe.Unhealthy || !errors.As(err, new(*GateError)) {
		t.Errorf("an unhealthy new instance: want a paused gate failure, got %#v", err)
	}
	f = newFake()
	f.failCreate["web-1"] = true
	_, err = run(t, f, replaces("web", 2, 1, model.OrderStopFirst), service("web", uc, hc))
	if !errors.As(err, &pe) || pe.Unhealthy {
		t.Errorf("a failed create (member lost): want a pause that is not the version's fault, got %#v", err)
	}
	if !strings.Contains(err.Error(), "apply again to retry") {
		t.Errorf("the message should say applying again retries: %v", err)
	}
}
