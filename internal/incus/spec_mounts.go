package incus

import (
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// mountDevices maps bind mounts of member paths to disk devices and
// devices: to unix-char / unix-block devices. A bind source's Swarm
// templates (/srv/{{.Node.Hostname}}) are expanded for task.
func mountDevices(rt model.Runtime, task model.TaskContext) map[string]map[string]string {
	out := map[string]map[string]string{}
	for i, b := range rt.HostBinds {
		d := map[string]string{"type": "disk", "source": model.ExpandTemplates(b.Source, task), "path": b.Target}
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
