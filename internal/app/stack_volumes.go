package app

import (
	"context"
	"fmt"
	"sync"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// slotVolumes carries out a plan's volume creates and moves as the
// instances that need them are created (a move waits until the old
// instance is gone, which stop-first guarantees), each at most once. A
// volume the plan neither creates nor moves is never made up here: if it
// is missing, the instance create fails loudly instead of starting empty.
type slotVolumes struct {
	client   *incus.Client
	stack    *model.Stack
	rootPool string
	ops      map[string]model.Step // volume name → its create or move step

	mu   sync.Mutex
	done map[string]bool
	log  []model.Step // volume steps carried out, for the response
}

func newSlotVolumes(c *incus.Client, stack *model.Stack, rootPool string, plan model.Plan) *slotVolumes {
	sv := &slotVolumes{client: c, stack: stack, rootPool: rootPool, ops: map[string]model.Step{}, done: map[string]bool{}}
	for _, s := range plan.Steps {
		if s.Op == model.OpVolumeCreate || s.Op == model.OpVolumeMove {
			sv.ops[s.Volume] = s
		}
	}
	return sv
}

// prepare makes the volumes of one instance step ready and returns the
// disk devices that attach them.
func (sv *slotVolumes) prepare(ctx context.Context, svc *model.Service, s model.Step) (map[string]map[string]string, error) {
	for _, m := range svc.Mounts {
		v := sv.stack.Volume(m.Source)
		if m.Type != model.MountVolume || v == nil {
			continue
		}
		if err := sv.ensure(ctx, svc, v, s); err != nil {
			return nil, err
		}
	}
	return incus.VolumeDevices(sv.stack, svc, s, sv.rootPool), nil
}

func (sv *slotVolumes) ensure(ctx context.Context, svc *model.Service, v *model.Volume, s model.Step) error {
	name := sv.stack.VolumeName(v.Name, svc, s.Slot, s.Member)
	op, ok := sv.ops[name]
	if !ok {
		return nil
	}
	// Two services sharing one volume may race for its create.
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.done[name] {
		return nil
	}
	var err error
	switch op.Op {
	case model.OpVolumeCreate:
		err = sv.client.CreateVolume(ctx, sv.stack.Name, op.Pool, op.Member, name, incus.VolumeConfig(sv.stack, v, svc, s))
	case model.OpVolumeMove:
		err = sv.client.MoveVolume(ctx, sv.stack.Name, op.Pool, name, op.OldMember, op.Member)
	}
	if err != nil {
		return fmt.Errorf("%s %s for %s: %w", op.Op, name, s.Instance, err)
	}
	sv.done[name] = true
	sv.log = append(sv.log, op)
	return nil
}

// deleteVolumes carries out the plan's volume deletes (prune_volumes),
// after every instance step: a volume is deleted only when asked.
func deleteVolumes(ctx context.Context, c *incus.Client, stack string, plan model.Plan) ([]model.Step, error) {
	var done []model.Step
	for _, s := range plan.Steps {
		if s.Op != model.OpVolumeDelete {
			continue
		}
		if err := c.DeleteVolume(ctx, stack, s.Pool, s.Member, s.Volume); err != nil {
			return done, err
		}
		done = append(done, s)
	}
	return done, nil
}
