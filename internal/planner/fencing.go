package planner

import (
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Fencing for shared pools. A member shows offline when it missed
// heartbeats, which a network partition causes as well as a crash: its
// instances may still run and write. A slot whose volume lives on a pool
// every member reaches (ceph, cephfs, ...) could be re-created elsewhere
// at once on the same volume, and then two instances would write it. So
// such a slot waits, like one on a local pool, until its member answers
// again, is evacuated or is removed from the cluster, or until the
// operator who knows the member is down allows the failover
// (failover_shared_volumes).

// sharedVolume is the first volume on a shared pool the service mounts
// ("" when none).
func (vi *volumeIndex) sharedVolume(svc *model.Service) string {
	for _, m := range svc.Mounts {
		if m.Type != model.MountVolume {
			continue
		}
		if v := vi.stack.Volume(m.Source); v != nil && !vi.local(vi.pool(v)) {
			return v.Name
		}
	}
	return ""
}

// fenced keeps a slot whose instance is on an offline member, when it
// mounts a volume on a shared pool and failover is not allowed.
func (p *servicePlan) fenced(slot int, old *current) bool {
	if p.vols == nil || old == nil || !p.cl.Offline(old.member) || p.vols.opts.FailoverSharedVolumes {
		return false
	}
	volume := p.vols.sharedVolume(p.svc)
	if volume == "" {
		return false
	}
	p.notes = append(p.notes, fmt.Sprintf("service %s slot %d is NOT re-created elsewhere: member %s is offline, which a network partition causes too, and its instance may still be writing volume %s on a shared pool; "+
		"the slot waits until %s answers, is evacuated or is removed from the cluster; if you know %s is down, apply with failover_shared_volumes: true (CLI --failover-shared-volumes)",
		p.svc.Name, slot, old.member, p.vols.stack.VolumeName(volume, p.svc, slot, old.member), old.member, old.member))
	p.keeps = append(p.keeps, keepStep(p.svc.Name, *old, p.svc))
	return true
}
