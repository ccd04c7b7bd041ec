package planner

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"

	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/scheduler"
)

// planVolumes lists, as their own steps, the volumes the service's new
// instances need: created where missing, moved where move_volumes moves a
// slot. Kept instances already have theirs. Run after placement.
func (p *servicePlan) planVolumes() ([]string, error) {
	if p.vols == nil || len(p.svc.Mounts) == 0 {
		return nil, nil
	}
	var warnings []string
	steps := append(append([]model.Step{}, p.replaces...), p.creates...)
	sortBySlot(steps)
	for _, s := range steps {
		for _, m := range p.svc.Mounts {
			v := p.vols.stack.Volume(m.Source)
			if m.Type != model.MountVolume || v == nil || v.External {
				continue
			}
			w, err := p.volumeFor(s, v)
			if err != nil {
				return nil, err
			}
			if w != "" {
				warnings = append(warnings, w)
			}
		}
	}
	all := append(steps, p.keeps...)
	sortBySlot(all)
	for _, s := range all {
		warnings = append(warnings, p.extraCopies(s)...)
	}
	return warnings, nil
}

// extraCopies handles the copies a move cut short leaves behind: the slot
// runs with the copy on its member, so the others are stale. They are
// deleted when this run moves volumes (finishing the move it asked for),
// otherwise reported.
func (p *servicePlan) extraCopies(s model.Step) []string {
	var notes []string
	for _, v := range p.vols.localMounts(p.svc) {
		if v.External || p.vols.stack.SingleVolume(v.Name) {
			continue
		}
		name := p.vols.stack.VolumeName(v.Name, p.svc, s.Slot, s.Member)
		where := p.vols.locate(name, p.vols.pool(v))
		if len(where) < 2 || !slices.Contains(where, s.Member) {
			continue
		}
		movedFrom := p.vols.movedFrom(name, p.vols.pool(v), s.Member)
		for _, m := range where {
			switch {
			case m == s.Member:
			case movedFrom != m:
				// Not proven stale: the slot's copy is not a finished
				// copy of this one, so neither is deleted.
				notes = append(notes, fmt.Sprintf("volume %s exists on %s and on %s, and the copy on %s is not a finished copy of the one on %s; slot %d of %s uses the one on %s; neither is deleted: look at both and delete the wrong one by hand",
					name, m, s.Member, s.Member, m, s.Slot, p.svc.Name, s.Member))
			case p.vols.opts.MoveVolumes && !p.cl.Offline(m):
				p.staleCopies = append(p.staleCopies, model.Step{Op: model.OpVolumeDelete, Service: p.svc.Name, Slot: s.Slot,
					Member: m, Volume: name, Pool: p.vols.pool(v), Reason: "stale copy (a move was cut short)"})
			default:
				notes = append(notes, fmt.Sprintf("volume %s has a stale copy on %s (a move was cut short; slot %d of %s runs with the copy on %s); apply with move_volumes: true to delete it",
					name, m, s.Slot, p.svc.Name, s.Member))
			}
		}
	}
	return notes
}

// volumeFor adds the step that gives slot step s its volume v, if any.
func (p *servicePlan) volumeFor(s model.Step, v *model.Volume) (string, error) {
	vi := p.vols
	pool := vi.pool(v)
	name := vi.stack.VolumeName(v.Name, p.svc, s.Slot, s.Member)
	op := model.Step{Op: model.OpVolumeCreate, Service: p.svc.Name, Slot: s.Slot, Instance: s.Instance,
		Volume: name, Pool: pool, Reason: model.ReasonMissing}
	if !vi.local(pool) || vi.stack.SingleVolume(v.Name) {
		if vi.exists(name, pool) || vi.planned[name] {
			return "", nil
		}
		vi.planned[name] = true
		if vi.local(pool) {
			op.Member = s.Member // one member holds it; its users are co-located there
		}
		p.volumeOps = append(p.volumeOps, op)
		return "", nil
	}
	where := vi.locate(name, pool)
	from, moving := p.moves[s.Slot]
	switch {
	case slices.Contains(where, s.Member) && (!moving || from == s.Member || vi.movedFrom(name, pool, s.Member) == from):
		return "", nil
	case slices.Contains(where, s.Member):
		// A same-named volume on the destination is not the data unless
		// a finished move marked it: refuse before anything changes.
		return "", &ConflictError{fmt.Errorf("service %s slot %d: volume %s cannot be moved from %s to %s: %s already holds a volume %s that is not a finished copy of the one on %s "+
			"(left by an interrupted copy, or made by hand); nothing was changed and the data stays on %s. Look at it and delete it "+
			"(incus storage volume delete %s %s --target %s --project %s), then apply again",
			p.svc.Name, s.Slot, name, from, s.Member, s.Member, name, from, from, pool, name, s.Member, vi.stack.Name)}
	case len(where) == 0:
		if old, ok := vi.renamedMemberVolume(v.Name, p.svc.Name, pool, s.Member); ok && p.svc.Deploy.Mode == model.ModeGlobal {
			// A new empty volume beside the member's own data: refuse.
			return "", &ConflictError{fmt.Errorf("service %s on %s: volume %s there holds the data of %s, the member's name before a rename; a new empty volume %s would replace it, so nothing was changed. "+
				"Rename it (incus storage volume rename %s %s %s --target %s --project %s; incus storage volume set %s %s %s=%s --target %s --project %s) and apply again",
				p.svc.Name, s.Member, old.Name, old.Config[model.KeyVolumeMember], name,
				pool, old.Name, name, s.Member, vi.stack.Name, pool, name, model.KeyVolumeMember, s.Member, s.Member, vi.stack.Name)}
		}
		op.Member = s.Member
		p.volumeOps = append(p.volumeOps, op)
		return "", nil
	}
	if !moving {
		// Sticky placement never gets here; a slot placed away from its
		// data must not start empty, so its create fails loudly instead.
		return fmt.Sprintf("WARNING: service %s slot %d is planned on %s but its volume %s lives on %s; the slot is not started with an empty volume (apply with move_volumes: true to move it)",
			p.svc.Name, s.Slot, s.Member, name, where[0]), nil
	}
	if !slices.Contains(where, from) {
		from = where[0]
	}
	op.Op, op.Member, op.OldMember, op.Reason = model.OpVolumeMove, s.Member, from, "move_volumes"
	p.volumeOps = append(p.volumeOps, op)
	return "", nil
}

// orphans finds the stack's volumes no slot of the desired stack uses (a
// scaled-down slot, a removed service or volume, a global service's member
// that left). They are kept, with a warning, unless prune_volumes asks for
// their deletion.
func (vi *volumeIndex) orphans(cl *scheduler.Cluster) ([]model.Step, []string) {
	var del []model.Step
	var notes []string
	for _, name := range sortedKeysOfSlice(vi.byName) {
		for _, v := range vi.byName[name] {
			if v.Config[model.KeyStack] != vi.stack.Name || !vi.orphan(v) {
				continue
			}
			slot, _ := strconv.Atoi(v.Config[model.KeySlot])
			svc := v.Config[model.KeyService]
			switch {
			case vi.renamedAway(v):
				notes = append(notes, fmt.Sprintf("volume %s on %s belongs to member %s, which is no longer in the cluster under that name (renamed?); it is kept, even with prune_volumes, until you rename it or delete it by hand",
					v.Name, v.Member, v.Config[model.KeyVolumeMember]))
			case !vi.opts.PruneVolumes:
				notes = append(notes, fmt.Sprintf("volume %s%s is kept although no slot uses it now; scaling back up reattaches it, and prune_volumes: true (CLI --prune-volumes) deletes it",
					v.Name, onMember(v.Member)))
			case v.Member != "" && cl.Offline(v.Member):
				notes = append(notes, fmt.Sprintf("volume %s on offline member %s should be pruned but cannot be while %s is offline; a later run deletes it", v.Name, v.Member, v.Member))
			default:
				del = append(del, model.Step{Op: model.OpVolumeDelete, Service: svc, Slot: slot, Member: v.Member,
					Volume: v.Name, Pool: v.Pool, Reason: model.ReasonPrune})
			}
		}
	}
	slices.SortStableFunc(del, func(a, b model.Step) int {
		return cmp.Or(cmp.Compare(a.Volume, b.Volume), cmp.Compare(a.Member, b.Member))
	})
	return del, notes
}

// renamedAway reports a global service's volume whose owner member is not
// in the cluster while the member holding it is: a renamed member's data,
// never pruned.
func (vi *volumeIndex) renamedAway(v model.VolumeState) bool {
	owner := v.Config[model.KeyVolumeMember]
	_, ownerIn := vi.members[owner]
	_, holderIn := vi.members[v.Member]
	return owner != "" && v.Member != "" && owner != v.Member && !ownerIn && holderIn
}

// orphan reports whether the desired stack has no use for a volume the
// stack created.
func (vi *volumeIndex) orphan(v model.VolumeState) bool {
	key := v.Config[model.KeyVolume]
	vol := vi.stack.Volume(key)
	if vol == nil || vol.External {
		return true
	}
	if vi.stack.SingleVolume(key) {
		return v.Name != key
	}
	svc := vi.stack.Service(v.Config[model.KeyService])
	if svc == nil || !slices.ContainsFunc(svc.Mounts, func(m model.Mount) bool { return m.Type == model.MountVolume && m.Source == key }) {
		return true
	}
	if svc.Deploy.Mode == model.ModeGlobal {
		member := v.Config[model.KeyVolumeMember]
		_, inCluster := vi.members[member]
		return !inCluster || v.Name != vi.stack.VolumeName(key, svc, 0, member)
	}
	slot, err := strconv.Atoi(v.Config[model.KeySlot])
	return err != nil || slot < 1 || slot > svc.Deploy.Replicas || v.Name != vi.stack.VolumeName(key, svc, slot, "")
}

func onMember(m string) string {
	if m == "" {
		return ""
	}
	return " on " + m
}

func sortedKeysOfSlice[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
