package model

import "strconv"

// Volume is one top-level Compose volume: an Incus custom storage volume in
// the stack's project. A volume used by one service is per slot (replicated)
// or per member (global); a volume used by several services, and an external
// one, is a single volume every user attaches.
type Volume struct {
	Name     string            // the Compose key
	External bool              // use an existing custom volume as-is
	Incus    string            // external: the Incus volume name (name:, default the key)
	Pool     string            // "" = the pool of the stack's root disk
	Size     string            // driver_opts.size, already validated ("10GiB")
	Labels   map[string]string `json:",omitempty"` // → user.<k> config
	// Shared declares the volume safe for several writers at once
	// (x-incus.shared → security.shared): updates may then run start-first.
	Shared bool `json:",omitempty"`
}

// Mount types of a service.
const (
	MountVolume = "volume"
	MountTmpfs  = "tmpfs"
)

// Mount is one named-volume or tmpfs mount of a service.
type Mount struct {
	Type     string // MountVolume | MountTmpfs
	Source   string // the volume's Compose key (MountVolume)
	Target   string // absolute path inside the instance
	ReadOnly bool   `json:",omitempty"`
	// TmpfsSize is tmpfs.size in bytes (0 = the kernel's default).
	TmpfsSize int64 `json:",omitempty"`
	// TmpfsMode is tmpfs.mode (0 = 1777, like Docker).
	TmpfsMode uint32 `json:",omitempty"`
}

// Ownership keys on the custom volumes the fleet creates.
const (
	KeyVolume = "user.fleet.volume" // the Compose key
	// KeyVolumeMember marks a global service's per-member volume.
	KeyVolumeMember = "user.fleet.member"
	// KeyMovedFrom marks a volume copied by a move: the member the copy
	// came from. It is set only after the copy's operation succeeded, so
	// a same-named volume without it (an interrupted copy, one made by
	// hand) is never taken for the moved data.
	KeyMovedFrom = "user.fleet.moved-from"
)

// Volume returns the named top-level volume, or nil.
func (s *Stack) Volume(name string) *Volume {
	for i := range s.Volumes {
		if s.Volumes[i].Name == name {
			return &s.Volumes[i]
		}
	}
	return nil
}

// VolumeUsers lists the services that mount the volume, in stack order.
func (s *Stack) VolumeUsers(name string) []string {
	var out []string
	for _, svc := range s.Services {
		for _, m := range svc.Mounts {
			if m.Type == MountVolume && m.Source == name {
				out = append(out, svc.Name)
				break
			}
		}
	}
	return out
}

// SingleVolume reports whether the volume is one Incus volume for every
// user (external, or mounted by several services) rather than one per
// slot or member.
func (s *Stack) SingleVolume(name string) bool {
	v := s.Volume(name)
	return v != nil && (v.External || len(s.VolumeUsers(name)) > 1)
}

// VolumeName is the Incus name of the volume a slot of a service mounts:
// <volume>-<slot> for a replicated service, <volume>-<member> for a global
// one, the volume itself when it is single.
func (s *Stack) VolumeName(volume string, svc *Service, slot int, member string) string {
	v := s.Volume(volume)
	switch {
	case v == nil:
		return volume
	case v.External:
		return v.Incus
	case s.SingleVolume(volume):
		return volume
	case svc.Deploy.Mode == ModeGlobal:
		return volume + "-" + member
	default:
		return volume + "-" + strconv.Itoa(slot)
	}
}

// VolumeState is one custom storage volume as the planner sees it.
type VolumeState struct {
	Name    string `json:"name"`
	Project string `json:"project"`
	Pool    string `json:"pool"`
	// Member holds the volume on a local pool; "" on a shared pool.
	Member string            `json:"member,omitempty"`
	Config map[string]string `json:"config,omitempty"` // user.fleet.* only
}
