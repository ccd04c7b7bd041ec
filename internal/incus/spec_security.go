package incus

import (
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// securityConfig maps privileged, cap_drop/cap_add and no-new-privileges.
// Capabilities only exist as raw LXC keys: lxc.cap.drop removes some,
// lxc.cap.keep (cap_drop: [ALL]) keeps only those listed.
func securityConfig(rt model.Runtime) (cfg map[string]string, raw []string) {
	cfg = map[string]string{}
	if rt.Privileged {
		cfg["security.privileged"] = "true"
	}
	if len(rt.CapDrop) > 0 {
		raw = append(raw, "lxc.cap.drop = "+strings.Join(rt.CapDrop, " "))
	}
	if len(rt.CapKeep) > 0 {
		raw = append(raw, "lxc.cap.keep = "+strings.Join(rt.CapKeep, " "))
	}
	if rt.NoNewPrivileges {
		raw = append(raw, "lxc.no_new_privs = 1")
	}
	return cfg, raw
}
