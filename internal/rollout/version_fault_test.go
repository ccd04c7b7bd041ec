package rollout

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// faultyActuator is fakeActuator with the failures of a new version that
// cannot run: Create says so with a GateError (an unknown user, a start
// that fails), or the instance has stopped so a probe cannot run in it.
type faultyActuator struct {
	*fakeActuator
	cannotRun map[string]bool // instance → Create returns a GateError
	probeErr  map[string]bool // instance → Probe fails with an error
	stopped   map[string]bool // instance → Running is false
}

func (f *faultyActuator) Create(ctx context.Context, s model.Step) error {
	if err := f.fakeActuator.Create(ctx, s); err != nil {
		return err
	}
	if f.cannotRun[s.Instance] {
		return &GateError{fmt.Errorf("%s: there is no user %q", s.Instance, "nosuchuser")}
	}
	return nil
}

func (f *faultyActuator) Probe(ctx context.Context, instance string, test []string, timeout time.Duration) (bool, error) {
	if f.probeErr[instance] {
		return false, fmt.Errorf("exec in %s: Instance is not running", instance)
	}
	return f.fakeActuator.Probe(ctx, instance, test, timeout)
}

func (f *faultyActuator) Running(ctx context.Context, instance string) (bool, error) {
	if f.stopped[instance] {
		return false, nil
	}
	return f.fakeActuator.Running(ctx, instance)
}

// TestVersionFaults (issue 25): a new version that cannot run is the
// version's failure, in both orders, so failure_action rollback records
// it as held; a probe that fails on a running instance is not.
func TestVersionFaults(t *testing.T) {
	hc := &model.Healthcheck{Test: []string{"CMD", "check"}, Retries: 3, Interval: time.Millisecond}
	uc := model.UpdateConfig{Parallelism: 1, FailureAction: "rollback"}
	cases := []struct {
		name                        string
		cannotRun, probeErr, stoppd bool
		unhealthy                   bool
	}{
		{name: "cannot run", cannotRun: true, unhealthy: true},
		{name: "probe in a stopped instance", probeErr: true, stoppd: true, unhealthy: true},
		{name: "probe error, still running", probeErr: true, unhealthy: false},
	}
	for _, order := range []string{model.OrderStopFirst, model.OrderStartFirst} {
		for _, c := range cases {
			t.Run(order+"/"+c.name, func(t *testing.T) {
				steps := replaces("web", 2, 1, order)
				first := steps[0].Instance
				f := &faultyActuator{fakeActuator: newFake(), cannotRun: map[string]bool{first: c.cannotRun},
					probeErr: map[string]bool{first: c.probeErr}, stopped: map[string]bool{first: c.stoppd}}
				stack := &model.Stack{Name: "s", Services: []model.Service{service("web", uc, hc)}}
				_, err := Execute(context.Background(), model.Plan{Stack: "s", Steps: steps}, stack, f, Options{})
				var rb *RollbackError
				if !errors.As(err, &rb) {
					t.Fatalf("want a RollbackError, got %v", err)
				}
				if rb.Unhealthy != c.unhealthy {
					t.Errorf("Unhealthy = %v, want %v: %v", rb.Unhealthy, c.unhealthy, err)
				}
				if n := len(f.entries("create " + steps[1].Instance)); n != 0 {
					t.Errorf("the update went on to slot 2 after slot 1 failed")
				}
			})
		}
	}
}
