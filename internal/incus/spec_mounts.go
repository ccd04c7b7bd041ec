package incus

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// mountDevices maps bind mounts of member paths to disk devices and
// devices: to unix-char / unix-block devices.
func mountDevices(rt model.Runtime) map[string]map[string]string {
	out := map[string]map[string]string{}
	for i, b := range rt.HostBinds {
		d := map[string]string{"type": "disk", "source": b.Source, "path": b.Target}
		if b.ReadOnly {
			d["readonly"] = "true"
		}
		out[fmt.Sprintf("bind-%d", i)] = d
	}
	for i, dev := range rt.Devices {
		kind := "unix-char"
		if dev.Block {
			kind = "unix-block"
		}
		out[fmt.Sprintf("device-%d", i)] = map[string]string{"type": kind, "source": dev.Source, "path": dev.Target}
	}
	return out
}

// tmpfsMounts maps tmpfs: and shm_size to LXC mount entries (Incus has no
// tmpfs disk device); their targets are relative to the container's root.
func tmpfsMounts(rt model.Runtime) []string {
	var raw []string
	for _, t := range rt.Tmpfs {
		opts := append([]string{"create=dir"}, t.Options...)
		if t.SizeBytes > 0 {
			opts = append(opts, "size="+strconv.FormatInt(t.SizeBytes, 10))
		}
		if t.Mode != 0 {
			opts = append(opts, fmt.Sprintf("mode=%o", t.Mode))
		}
		raw = append(raw, tmpfsEntry(t.Target, opts))
	}
	if rt.ShmSizeBytes > 0 {
		raw = append(raw, tmpfsEntry("/dev/shm", []string{"create=dir", "nosuid", "nodev", "mode=1777", "size=" + strconv.FormatInt(rt.ShmSizeBytes, 10)}))
	}
	return raw
}

func tmpfsEntry(target string, opts []string) string {
	return fmt.Sprintf("lxc.mount.entry = tmpfs %s tmpfs %s 0 0", strings.TrimPrefix(target, "/"), strings.Join(opts, ","))
}
