package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/crashpoint"
	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/planner"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
	"github.com/incus-fleet/incus-fleet/internal/rollout"
)

// apply executes the plan and keeps the stack record: before the first
// slot of an update is touched the record notes the update (its target and
// the spec it began from); after a successful run the new spec becomes
// current and the one the update began from previous; a paused update
// stays recorded as paused, and one with failure_action rollback is rolled
// back to the spec it began from.
func (d *deployment) apply(ctx context.Context, plan model.Plan) (rollout.Outcome, error) {
	rec, err := d.client.ReadRecord(d.stack.Name)
	if err != nil {
		return rollout.Outcome{}, err
	}
	upd, err := readUpdate(d.stack.Name, rec)
	if err != nil {
		return rollout.Outcome{}, err
	}
	spec, err := encodeSpec(d.mergedWithRecord(rec.Current), d.images)
	if err != nil {
		return rollout.Outcome{}, err
	}
	if upd.holds(spec) && !d.params.Resume {
		return rollout.Outcome{}, &heldUpdateError{stack: d.stack.Name, u: upd}
	}
	if spec != rec.Current && plan.Changes() {
		if upd == nil {
			upd = &updateRecord{From: rec.Current}
		} // else: a new spec over a stopped or crashed update keeps its From
		upd.Target = specTarget(spec)
		upd.stopAt(updateRunning, "", nil, nil, nil)
		rec.Update = upd.encode()
		if err := d.client.WriteRecord(d.stack.Name, &rec); err != nil {
			return rollout.Outcome{}, err
		}
		crashpoint.Hit("update-recorded")
	}
	outcome, err := execute(ctx, d.client, d.state, d.stack, d.images, plan, d.stderr, "")
	var rb *rollout.RollbackError
	if errors.As(err, &rb) {
		return outcome, d.rollBack(ctx, &rec, upd, rb)
	}
	var pe *rollout.PausedError
	if errors.As(err, &pe) && upd != nil {
		upd.stopAt(stoppedState(updatePaused, pe.Unhealthy), pe.Service, pe.Slots, pe.Failed, pe.Cause)
		rec.Update = upd.encode()
		if werr := d.client.WriteRecord(d.stack.Name, &rec); werr != nil {
			return outcome, fmt.Errorf("%w (and recording the pause failed: %v)", err, werr)
		}
		return outcome, err
	}
	if err != nil {
		return outcome, err
	}
	pruned, err := deleteVolumes(ctx, d.client, d.stack.Name, plan) // stack_volumes.go
	outcome.Done = append(outcome.Done, pruned...)
	if err != nil {
		return outcome, err
	}
	if spec == rec.Current && rec.Update == "" {
		return outcome, nil
	}
	crashpoint.Hit("before-record")
	if spec != rec.Current {
		from := rec.Current
		if upd != nil {
			from = upd.From
		}
		rec.Previous, rec.Current = from, spec
	}
	rec.Update = ""
	if err := d.client.WriteRecord(d.stack.Name, &rec); err != nil {
		return outcome, err
	}
	crashpoint.Hit("after-record")
	return outcome, nil
}

// recordStale reports whether the stack's record lags what runs (a run
// killed after its last instance change, before writing the record, leaves
// it so) or still notes an update; such a no-op still goes through the
// locked path to write it. held is the update that stands stopped at this
// very spec, if any.
func (d *deployment) recordStale() (stale bool, held *heldUpdateError) {
	if d.client == nil {
		return false, nil // offline planning has no record
	}
	rec, err := d.client.ReadRecord(d.stack.Name)
	if err != nil {
		return !errors.Is(err, incus.ErrNotFound), nil // a missing project has nothing to record
	}
	spec, err := encodeSpec(d.mergedWithRecord(rec.Current), d.images)
	if err != nil {
		return true, nil
	}
	if upd, err := readUpdate(d.stack.Name, rec); err != nil {
		return true, nil
	} else if upd.holds(spec) && !d.params.Resume {
		held = &heldUpdateError{stack: d.stack.Name, u: upd}
	}
	return spec != rec.Current || rec.Update != "" || !namesCover(rec, d.state, d.stack.Name), held
}

// lock creates the stack's project if needed (the lock lives in it), takes
// the stack's lock, and then switches the project's volume feature on.
func (d *deployment) lock(ctx context.Context, req *protocol.Request) (*incus.Lock, error) {
	if _, err := d.client.EnsureProject(ctx, d.stack.Name); err != nil {
		return nil, err
	}
	crashpoint.Hit("project-created")
	l, err := d.client.AcquireLock(ctx, d.stack.Name, lockWait(d.params.LockTimeout))
	if err != nil {
		return nil, err
	}
	crashpoint.Hit("locked")
	// Under the lock: the feature switch rewrites the whole project config.
	if len(d.stack.Volumes) > 0 {
		if err := d.client.EnsureVolumeFeature(ctx, d.stack.Name); err != nil {
			d.unlock(l)
			return nil, err
		}
	}
	return l, nil
}

func (d *deployment) unlock(l *incus.Lock) {
	if err := l.Release(); err != nil {
		fmt.Fprintf(d.stderr, "warning: could not release the lock of stack %s: %v\n", d.stack.Name, err)
	}
}

// defaultLockWait is how long a run waits for another run on the same stack.
const defaultLockWait = 60 * time.Second

func lockWait(seconds *float64) time.Duration {
	if seconds == nil {
		return defaultLockWait
	}
	return time.Duration(*seconds * float64(time.Second))
}

// mergedWithRecord is the full stack after a run limited to some services:
// the recorded spec with those services replaced.
func (d *deployment) mergedWithRecord(current string) *model.Stack {
	if len(d.params.Services) == 0 || current == "" {
		return d.stack
	}
	recorded, images, err := decodeSpec(d.stack.Name, current)
	if err != nil {
		return d.stack
	}
	merged := &model.Stack{Name: d.stack.Name, Bundle: d.stack.Bundle, Volumes: d.stack.Volumes, Networks: d.stack.Networks}
	for _, n := range recorded.Networks {
		if merged.Network(n.Name) == nil {
			merged.Networks = append(merged.Networks, n)
		}
	}
	for _, v := range recorded.Volumes {
		if d.stack.Volume(v.Name) == nil {
			merged.Volumes = append(merged.Volumes, v)
		}
	}
	for _, svc := range recorded.Services {
		if d.stack.Service(svc.Name) == nil {
			merged.Services = append(merged.Services, svc)
			if _, ok := d.images[svc.Name]; !ok {
				d.images[svc.Name] = images[svc.Name]
			}
		}
	}
	merged.Services = append(merged.Services, d.stack.Services...)
	return merged
}

// rollBack returns every slot to the spec the update began from (the same
// target stack.rollback uses), rolling with each service's
// rollback_config, and records the outcome, so the same spec applied again
// does not replace and roll back once more.
func (d *deployment) rollBack(ctx context.Context, rec *incus.StackRecord, upd *updateRecord, cause *rollout.RollbackError) error {
	paused := &rollout.PausedError{Service: cause.Service, Failed: cause.Failed, Slots: cause.Slots, Cause: cause.Cause}
	record := func(state string, err error) error {
		if upd == nil {
			return err
		}
		upd.stopAt(stoppedState(state, cause.Unhealthy), cause.Service, cause.Slots, cause.Failed, cause.Cause)
		rec.Update = upd.encode()
		if werr := d.client.WriteRecord(d.stack.Name, rec); werr != nil {
			return fmt.Errorf("%w (and recording the update's state failed: %v)", err, werr)
		}
		return err
	}
	target := rec.Current
	if upd != nil {
		target = upd.From
	}
	if target == "" {
		return record(updatePaused, fmt.Errorf("%v; nothing to roll back to (this stack has no earlier deployed spec), so the update stops here: %w", cause, paused))
	}
	fmt.Fprintf(d.stderr, "rolling back stack %s: %v\n", d.stack.Name, cause)
	if err := rollTo(ctx, d.client, d.stack.Name, target, d.stderr, d.stack); err != nil {
		return record(updateRollbackFailed, fmt.Errorf("%v; the rollback failed too (stack.rollback retries it): %w", cause, err))
	}
	return record(updateRolledBack, &rolledBackError{cause: cause})
}

// rollTo plans the stack back to a recorded spec and executes that plan,
// after checking that every image it needs can be had. from is the stack
// being deployed: it supplies the secrets a record never holds (those it
// lacks are read from the running instances, stack_secrets.go).
func rollTo(ctx context.Context, c *incus.Client, name, recorded string, stderr writer, from *model.Stack) error {
	stack, images, err := decodeSpec(name, recorded)
	if err != nil {
		return err
	}
	if images, err = rollbackImages(ctx, c, stack, images); err != nil {
		return err
	}
	state, err := c.ReadState(ctx)
	if err != nil {
		return err
	}
	secrets := &secretSource{client: c, from: from, current: secretRefsOf(from), state: state, stack: name}
	secrets.fill(ctx, stack, decodeSecretRefs(recorded))
	for _, w := range secrets.warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	rollback := withRollbackConfig(stack)
	plan, _, err := planner.Plan(rollback, state, planner.Options{ImageFingerprints: fingerprintsOf(images)})
	if err != nil {
		return err
	}
	_, err = execute(ctx, c, state, rollback, images, plan, stderr, "rollback")
	return err
}

// execute runs a plan with the Incus actuator; phase is "" for an update,
// "rollback" for a rollback (crash points, rollout.Options.Phase). With
// networks, the OVN networks the plan needs are created first and the names
// follow every change (stack_names.go), also when the run fails.
func execute(ctx context.Context, c *incus.Client, state *model.ClusterState, stack *model.Stack,
	images map[string]incus.Image, plan model.Plan, stderr writer, phase string) (rollout.Outcome, error) {
	members := map[string]model.Member{}
	for _, m := range state.Members {
		members[m.Name] = m
	}
	nets, err := c.ResolveNetworks(ctx, stack, state.Members)
	if err != nil {
		return rollout.Outcome{}, err
	}
	if err := c.EnsureNetworks(ctx, nets); err != nil {
		return rollout.Outcome{}, err
	}
	act := &stackActuator{client: c, stack: stack, images: images, members: members,
		volumes: newSlotVolumes(c, stack, state.RootPool, plan), nets: nets}
	var runner rollout.Actuator = act
	if nets.Enabled() {
		act.names = newNameSync(c, stack, nets, plan)
		runner = &namedActuator{Actuator: act, names: act.names}
	}
	outcome, err := rollout.Execute(ctx, plan, stack, runner, rollout.Options{Progress: stderr, Phase: phase})
	outcome.Done = append(outcome.Done, act.volumes.log...)
	if act.names != nil {
		outcome.Warnings = append(outcome.Warnings, act.names.finish(context.WithoutCancel(ctx))...)
	}
	return outcome, err
}

// rolledBackError reports an update that failed and was rolled back.
type rolledBackError struct{ cause *rollout.RollbackError }

func (e *rolledBackError) Error() string {
	return fmt.Sprintf("%v; rolled back: every slot runs the previously deployed spec again", e.cause)
}
