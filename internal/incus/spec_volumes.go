package incus

import (
	"fmt"
	"strconv"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// VolumeDevices returns the disk devices that attach a slot's named
// volumes (model.Stack.VolumeName) at their targets. rootPool is the pool a
// volume without x-incus.pool lives in.
func VolumeDevices(stack *model.Stack, svc *model.Service, step model.Step, rootPool string) map[string]map[string]string {
	devices := map[string]map[string]string{}
	for _, m := range svc.Mounts {
		v := stack.Volume(m.Source)
		if m.Type != model.MountVolume || v == nil {
			continue
		}
		pool := v.Pool
		if pool == "" {
			pool = rootPool
		}
		dev := map[string]string{
			"type":   "disk",
			"pool":   pool,
			"source": stack.VolumeName(v.Name, svc, step.Slot, step.Member),
			"path":   m.Target,
		}
		if m.ReadOnly {
			dev["readonly"] = "true"
		}
		name := "volume-" + v.Name
		for n := 2; devices[name] != nil; n++ {
			name = "volume-" + v.Name + "-" + strconv.Itoa(n)
		}
		devices[name] = dev
	}
	return devices
}

// VolumeConfig is the config a new custom volume gets: its size, its
// Compose labels as user.<key>, and the ownership keys the planner reads
// back (stack, volume, and the service and slot or member it belongs to).
// security.shared is not set: Incus 6.0 refuses it on filesystem volumes,
// which several instances may attach anyway (it only guards block ones).
func VolumeConfig(stack *model.Stack, v *model.Volume, svc *model.Service, step model.Step) map[string]string {
	cfg := map[string]string{
		model.KeyStack:  stack.Name,
		model.KeyVolume: v.Name,
	}
	if !stack.SingleVolume(v.Name) {
		cfg[model.KeyService] = svc.Name
		if svc.Deploy.Mode == model.ModeGlobal {
			cfg[model.KeyVolumeMember] = step.Member
		} else {
			cfg[model.KeySlot] = strconv.Itoa(step.Slot)
		}
	}
	if v.Size != "" {
		cfg["size"] = v.Size
	}
	for k, val := range v.Labels {
		cfg["user."+k] = val
	}
	return cfg
}

// tmpfsMountLines returns the raw.lxc lines that mount the service's
// `type: tmpfs` mounts: Incus has no tmpfs disk device for containers, LXC
// mounts one before the first process starts (the service-level `tmpfs:`
// key goes through the same tmpfsEntry, spec_tmpfs.go).
func tmpfsMountLines(svc *model.Service) []string {
	var lines []string
	for _, m := range svc.Mounts {
		if m.Type != model.MountTmpfs {
			continue
		}
		mode := m.TmpfsMode
		if mode == 0 {
			mode = 0o1777
		}
		opts := []string{"rw", "nosuid", "nodev", "create=dir", fmt.Sprintf("mode=%o", mode)}
		if m.TmpfsSize > 0 {
			opts = append(opts, "size="+strconv.FormatInt(m.TmpfsSize, 10))
		}
		lines = append(lines, tmpfsEntry(m.Target, opts))
	}
	return lines
}
