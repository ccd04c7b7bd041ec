package planner

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// NotFoundError reports something the stack needs that the cluster lacks
// (an external volume); callers map it to not_found.
type NotFoundError struct{ Err error }

func (e *NotFoundError) Error() string { return e.Err.Error() }
func (e *NotFoundError) Unwrap() error { return e.Err }

// volumeIndex answers the planner's questions about storage volumes: which
// pool a Compose volume lives in, whether that pool is local to each
// member, and where the stack's volumes are now.
type volumeIndex struct {
	stack   *model.Stack
	drivers map[string]string // pool → driver
	root    string
	members map[string]model.Member
	// byName holds the custom volumes of the stack's project by name; a
	// volume on a local pool may exist on several members (a move cut
	// short leaves two copies).
	byName map[string][]model.VolumeState
	opts   Options
	// planned marks single volumes already given a create step, so two
	// services sharing one get it once.
	planned map[string]bool
}

func newVolumeIndex(desired *model.Stack, state *model.ClusterState, opts Options) *volumeIndex {
	vi := &volumeIndex{stack: desired, drivers: map[string]string{}, members: map[string]model.Member{},
		byName: map[string][]model.VolumeState{}, opts: opts, planned: map[string]bool{}}
	if state == nil {
		return vi
	}
	vi.root = state.RootPool
	for _, p := range state.StoragePools {
		vi.drivers[p.Name] = p.Driver
	}
	for _, m := range state.Members {
		vi.members[m.Name] = m
	}
	for _, v := range state.Volumes {
		if v.Project == desired.Name {
			vi.byName[v.Name] = append(vi.byName[v.Name], v)
		}
	}
	return vi
}

// pool is the storage pool of a Compose volume ("" = unknown).
func (vi *volumeIndex) pool(v *model.Volume) string {
	if v.Pool != "" {
		return v.Pool
	}
	return vi.root
}

// local reports whether a pool ties each volume to one member. An unknown
// driver counts as local: the cautious answer never loses data.
func (vi *volumeIndex) local(pool string) bool {
	return !slices.Contains(sharedDrivers, strings.ToLower(vi.drivers[pool]))
}

// check rejects volume definitions the cluster cannot honour, before
// anything changes.
func (vi *volumeIndex) check() error {
	for _, svc := range vi.stack.Services {
		for _, m := range svc.Mounts {
			if m.Type == model.MountVolume && vi.stack.Volume(m.Source) == nil {
				return &SpecError{svc.Name, fmt.Errorf("mounts volume %q at %s, which is not defined in the top-level volumes:; define it there", m.Source, m.Target)}
			}
		}
	}
	if err := vi.checkNames(); err != nil {
		return err
	}
	if err := vi.checkShared(); err != nil { // colocate.go
		return err
	}
	for i := range vi.stack.Volumes {
		v := &vi.stack.Volumes[i]
		pool := vi.pool(v)
		if _, known := vi.drivers[pool]; pool != "" && len(vi.drivers) > 0 && !known {
			return &SpecError{Err: fmt.Errorf("volume %q: storage pool %q does not exist; name an existing pool in x-incus.pool (have: %s)",
				v.Name, pool, strings.Join(sortedKeysOf(vi.drivers), ", "))}
		}
		if err := vi.checkPool(v, pool); err != nil {
			return err
		}
		if v.External && len(vi.byName[v.Incus]) == 0 {
			return &NotFoundError{fmt.Errorf("volume %q is external, but custom volume %q does not exist in project %s; create it first (incus storage volume create %s %s --project %s) or drop external: true",
				v.Name, v.Incus, vi.stack.Name, orDefault(pool, "POOL"), v.Incus, vi.stack.Name)}
		}
	}
	return nil
}

// checkNames refuses two Compose volumes that would be one Incus volume:
// a volume with a fixed Incus name (external, or one volume shared by
// several services) equal to a per-slot name of another (data-1 is slot 1
// of data, data-node1 node1's of a global service's data). Any slot
// counts, not only today's replicas: scaling up would reach it.
func (vi *volumeIndex) checkNames() error {
	fixed := map[string]string{} // Incus name → Compose key
	for _, v := range vi.stack.Volumes {
		if vi.stack.SingleVolume(v.Name) {
			fixed[vi.stack.VolumeName(v.Name, nil, 0, "")] = v.Name
		}
	}
	for _, name := range sortedKeysOf(fixed) {
		key := fixed[name]
		for _, v := range vi.stack.Volumes {
			if v.Name == key || vi.stack.SingleVolume(v.Name) || !strings.HasPrefix(name, v.Name+"-") {
				continue
			}
			suffix := strings.TrimPrefix(name, v.Name+"-")
			for _, user := range vi.stack.VolumeUsers(v.Name) {
				svc := vi.stack.Service(user)
				slot, err := strconv.Atoi(suffix)
				_, member := vi.members[suffix]
				perSlot := svc.Deploy.Mode != model.ModeGlobal && err == nil && slot >= 1 && strconv.Itoa(slot) == suffix
				if perSlot || svc.Deploy.Mode == model.ModeGlobal && member {
					what := "slot " + suffix
					if !perSlot {
						what = "member " + suffix
					}
					return &SpecError{Err: fmt.Errorf("volumes %q and %q would be the same Incus volume %s (%s of service %s's per-slot volume %q has that name); rename one of them",
						key, v.Name, name, what, user, v.Name)}
				}
			}
		}
	}
	return nil
}

// checkPool refuses a pool change of a volume that already holds data: the
// stack's volumes of this Compose key (found by their ownership keys, not
// by name) living in another pool and not in the new one. Switching would
// give every slot an empty volume in the new pool and leave the data
// behind; move_volumes moves between members, not pools.
func (vi *volumeIndex) checkPool(v *model.Volume, pool string) error {
	if v.External || pool == "" {
		return nil
	}
	var held []model.VolumeState
	for _, name := range sortedKeysOfSlice(vi.byName) {
		for _, st := range vi.byName[name] {
			if st.Config[model.KeyStack] == vi.stack.Name && st.Config[model.KeyVolume] == v.Name && st.Pool != pool && !vi.exists(st.Name, pool) {
				held = append(held, st)
			}
		}
	}
	if len(held) == 0 {
		return nil
	}
	slices.SortStableFunc(held, func(a, b model.VolumeState) int {
		return cmp.Or(cmp.Compare(a.Pool, b.Pool), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Member, b.Member))
	})
	where := make([]string, len(held))
	for i, st := range held {
		where[i] = st.Name + onMember(st.Member) + " in pool " + st.Pool
	}
	first, target := held[0], ""
	if first.Member != "" {
		target = " --target " + first.Member
	}
	return &ConflictError{fmt.Errorf("volume %q is now asked for in storage pool %q, but its data lives in pool %q (%s); "+
		"changing the pool would give the slots EMPTY volumes there and leave the data behind, so nothing was changed. "+
		"Keep x-incus.pool: %s (or the root disk's pool it followed), or copy each volume yourself first, with its slot stopped "+
		"(incus storage volume copy %s/%s %s/%s%s --project %s), apply again, and delete the old ones once the data is checked; "+
		"move_volumes moves volumes between members, not pools",
		v.Name, pool, first.Pool, strings.Join(where, ", "), first.Pool, first.Pool, first.Name, pool, first.Name, target, vi.stack.Name)}
}

// renamedMemberVolume finds a global service's per-member volume of
// Compose key key that lives on member but belongs, by its ownership key,
// to a member name no longer in the cluster: the member was renamed, and
// the volume holds its data under the old name.
func (vi *volumeIndex) renamedMemberVolume(key, service, pool, member string) (model.VolumeState, bool) {
	for _, name := range sortedKeysOfSlice(vi.byName) {
		for _, v := range vi.byName[name] {
			owner := v.Config[model.KeyVolumeMember]
			if _, in := vi.members[owner]; v.Config[model.KeyStack] == vi.stack.Name && v.Config[model.KeyVolume] == key &&
				v.Config[model.KeyService] == service && v.Pool == pool && v.Member == member && owner != "" && owner != member && !in {
				return v, true
			}
		}
	}
	return model.VolumeState{}, false
}

// locate returns the members holding a volume on a local pool, in name
// order ("" entries are dropped: shared pools have no location).
func (vi *volumeIndex) locate(name, pool string) []string {
	var out []string
	for _, v := range vi.byName[name] {
		if v.Pool == pool && v.Member != "" {
			out = append(out, v.Member)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// movedFrom is the member the copy of a volume on member came from, when
// that copy is a finished move (model.KeyMovedFrom) and its source still
// exists; "" otherwise.
func (vi *volumeIndex) movedFrom(name, pool, member string) string {
	where := vi.locate(name, pool)
	for _, v := range vi.byName[name] {
		if v.Pool == pool && v.Member == member {
			if from := v.Config[model.KeyMovedFrom]; from != "" && from != member && slices.Contains(where, from) {
				return from
			}
		}
	}
	return ""
}

// exists reports whether the volume exists in the pool at all.
func (vi *volumeIndex) exists(name, pool string) bool {
	return slices.ContainsFunc(vi.byName[name], func(v model.VolumeState) bool { return v.Pool == pool })
}

// localMounts lists the service's volume mounts on local pools.
func (vi *volumeIndex) localMounts(svc *model.Service) []*model.Volume {
	var out []*model.Volume
	for _, m := range svc.Mounts {
		if m.Type != model.MountVolume {
			continue
		}
		if v := vi.stack.Volume(m.Source); v != nil && vi.local(vi.pool(v)) {
			out = append(out, v)
		}
	}
	return out
}

// home is the member a slot is tied to by its volumes on local pools, and
// the volume that ties it; "" when nothing ties it. When copies exist on
// several members (a move cut short), the one on prefer (where the slot
// runs now) wins, then an eligible one.
func (vi *volumeIndex) home(svc *model.Service, slot int, prefer string, eligible func(string) bool) (member, volume string) {
	if svc.Deploy.Mode == model.ModeGlobal {
		return "", "" // a global replica belongs to its member already
	}
	for _, v := range vi.localMounts(svc) {
		name := vi.stack.VolumeName(v.Name, svc, slot, "")
		where := vi.locate(name, vi.pool(v))
		if len(where) == 0 {
			continue
		}
		// A finished move whose source was not deleted yet: the copy is
		// the data (the move was asked for and completed).
		for _, m := range where {
			if vi.movedFrom(name, vi.pool(v), m) != "" {
				return m, name
			}
		}
		if prefer != "" && slices.Contains(where, prefer) {
			return prefer, name
		}
		for _, m := range where {
			if eligible(m) {
				return m, name
			}
		}
		return where[0], name
	}
	return "", ""
}

// memberStatus describes why a member cannot take a slot, for warnings.
func (vi *volumeIndex) memberStatus(name string) string {
	m, ok := vi.members[name]
	switch {
	case !ok:
		return "no longer in the cluster"
	case m.Status == model.StatusOnline:
		return "not eligible for the service (placement constraints)"
	default:
		return strings.ToLower(m.Status)
	}
}

// stuckWarning is the loud warning for a slot left down, or left where it
// is, because its data lives on a member it cannot run on now.
func (vi *volumeIndex) stuckWarning(svc string, slot int, volume, member string, canMove bool) string {
	how := "to move it with its data instead, apply with move_volumes: true (CLI --move-volumes)"
	if !canMove {
		how = "it cannot be moved while " + member + " is offline (the data is only there); once " + member + " answers, move_volumes: true moves it"
	}
	return fmt.Sprintf("service %s slot %d is NOT re-created elsewhere: its volume %s lives on member %s, which is %s, and a new instance elsewhere would start with an empty volume; the slot stays there and runs again with its data once %s can take it; %s",
		svc, slot, volume, member, vi.memberStatus(member), member, how)
}

func sortedKeysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
