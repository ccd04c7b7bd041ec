package composeload

import (
	"fmt"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// isHostBind reports whether a bind mount names a path on the members
// rather than a file of the project: any source outside the project
// directory (/var/run/docker.sock, /srv/data, /etc/localtime). Such paths
// are never looked at on the planning machine, so an offline plan does not
// depend on its filesystem.
func isHostBind(dir string, v types.ServiceVolumeConfig) bool {
	if v.Type != types.VolumeTypeBind || !filepath.IsAbs(v.Source) {
		return false
	}
	_, inside := insideDir(dir, v.Source)
	return !inside && filepath.Clean(v.Source) != filepath.Clean(dir)
}

// hostBinds maps bind mounts of member paths to Incus disk devices, with
// one warning per mount: the path must exist on every member that may run
// the service, or its instances fail to start there.
func hostBinds(dir string, s types.ServiceConfig, w *warnings) ([]model.HostBind, error) {
	var out []model.HostBind
	for i, v := range s.Volumes {
		if !isHostBind(dir, v) {
			continue
		}
		target, err := cleanTarget(s.Name, fmt.Sprintf("volumes[%d]", i), v.Target)
		if err != nil {
			return nil, err
		}
		out = append(out, model.HostBind{Source: filepath.Clean(v.Source), Target: target, ReadOnly: v.ReadOnly})
		w.add(fmt.Sprintf("service %q: bind mount of host path %s at %s mounts that path of the member each instance runs on: it must exist on every member that may run the service",
			s.Name, filepath.Clean(v.Source), target))
	}
	return out, nil
}
