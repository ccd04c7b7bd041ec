package incus

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

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
