package incus

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// stopTimeoutKey carries stop_grace_period on the instance: Incus uses it
// when the host shuts down, and StopAndDelete reads it back so every stop
// and replace of that instance waits as long (whatever spec replaces it).
const stopTimeoutKey = "boot.host_shutdown_timeout"

// runtimeConfig maps a service's process settings (user, working_dir,
// stop_grace_period, stop_signal, sysctls, ulimits, hostname, cpuset) and
// its deploy.labels onto instance config, hostname with its Swarm
// templates expanded for task. Settings LXC only takes as raw
// keys come back as raw.lxc lines.
func runtimeConfig(svc *model.Service, task model.TaskContext) (cfg map[string]string, raw []string) {
	rt := svc.Runtime
	cfg = map[string]string{}
	if rt.UID != nil {
		raw = append(raw, fmt.Sprintf("lxc.init.uid = %d", *rt.UID))
	}
	if rt.GID != nil {
		raw = append(raw, fmt.Sprintf("lxc.init.gid = %d", *rt.GID))
	}
	if rt.User != "" {
		cfg[runAsKey] = rt.User // resolved inside the instance (user.go)
	}
	if rt.WorkingDir != "" {
		raw = append(raw, "lxc.init.cwd = "+rt.WorkingDir)
	}
	if rt.StopGracePeriod > 0 {
		cfg[stopTimeoutKey] = strconv.Itoa(int(math.Ceil(rt.StopGracePeriod.Seconds())))
	}
	if rt.StopSignal != "" {
		raw = append(raw, "lxc.signal.halt = "+rt.StopSignal)
	}
	for k, v := range rt.Sysctls {
		cfg["linux.sysctl."+k] = v
	}
	for name, l := range rt.Ulimits {
		cfg["limits.kernel."+name] = ulimitValue(l)
	}
	if rt.Hostname != "" {
		raw = append(raw, "lxc.uts.name = "+model.ExpandTemplates(rt.Hostname, task))
	}
	if rt.CPUSet != "" {
		cfg["limits.cpu"] = rt.CPUSet
	}
	for k, v := range svc.Deploy.Labels {
		cfg[model.KeyDeployLabelPrefix+k] = v
	}
	return cfg, raw
}

// ulimitValue renders a limit the way limits.kernel.* takes it: one number
// when soft and hard agree, else soft:hard; -1 is unlimited.
func ulimitValue(l model.Ulimit) string {
	v := func(n int64) string {
		if n < 0 {
			return "unlimited"
		}
		return strconv.FormatInt(n, 10)
	}
	if l.Soft == l.Hard {
		return v(l.Soft)
	}
	return v(l.Soft) + ":" + v(l.Hard)
}

// StopTimeout reads an instance's stop grace period back from its config;
// 0 means stop at once.
func StopTimeout(config map[string]string) time.Duration {
	n, err := strconv.Atoi(config[stopTimeoutKey])
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// rawLXC joins raw.lxc lines in a stable order (the init command first).
func rawLXC(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	rest := slices.Clone(lines[1:])
	slices.Sort(rest)
	return strings.Join(append([]string{lines[0]}, rest...), "\n")
}
