package composeload

import (
	"fmt"
	"strings"
)

// handled marks how a Compose service key is taken care of. Every key of
// the Compose service schema (compose-go's embedded compose-spec.json) must
// be in serviceKeys: keys_test.go walks the schema and fails on a key that
// is missing, so a new Compose release never drops a key silently.
type handled struct {
	// why is empty for keys that are mapped (or refused where they cannot
	// be honoured); otherwise the key is reported as not supported, with
	// why saying what Incus does instead.
	why string
}

var mapped = handled{}

func warned(why string) handled { return handled{why: why} }

// serviceKeys: mapped keys are converted in service.go, runtime.go,
// deploy.go, ports.go, files.go, binds.go and hash.go (see the README's
// mapping table); the others produce one warning per service and key.
var serviceKeys = map[string]handled{
	// Mapped.
	"image": mapped, "command": mapped, "entrypoint": mapped, "environment": mapped,
	"env_file": mapped, "labels": mapped, "label_file": mapped, "ports": mapped,
	"healthcheck": mapped, "deploy": mapped, "restart": mapped, "scale": mapped,
	"profiles": mapped, "extends": mapped, "configs": mapped, "volumes": mapped,
	"secrets": mapped, "networks": mapped, "build": mapped, "cpus": mapped,
	"mem_limit": mapped, "mem_reservation": mapped, "pids_limit": mapped,
	"user": mapped, "working_dir": mapped, "stop_grace_period": mapped,
	"stop_signal": mapped, "sysctls": mapped, "ulimits": mapped,
	"privileged": mapped, "cap_add": mapped, "cap_drop": mapped, "devices": mapped,
	"hostname": mapped, "extra_hosts": mapped, "tmpfs": mapped, "shm_size": mapped,
	"depends_on": mapped, "platform": mapped, "security_opt": mapped,
	"container_name": mapped, "init": mapped, "cpuset": mapped,

	// Reported: no faithful Incus equivalent.
	"annotations":         warned("OCI annotations have no Incus equivalent; use labels"),
	"attach":              warned("it only selects the log output of docker compose up"),
	"blkio_config":        warned("Incus sets disk I/O limits per disk device (limits.read, limits.write), not per host device"),
	"cgroup":              warned("Incus gives every container its own cgroup namespace"),
	"cgroup_parent":       warned("Incus places every instance's cgroup itself"),
	"cpu_count":           warned("Windows only; use deploy.resources.limits.cpus"),
	"cpu_percent":         warned("Windows only; use deploy.resources.limits.cpus"),
	"cpu_period":          warned("use deploy.resources.limits.cpus, which sets a CFS quota"),
	"cpu_quota":           warned("use deploy.resources.limits.cpus, which sets a CFS quota"),
	"cpu_rt_period":       warned("Incus sets no real-time scheduling budget"),
	"cpu_rt_runtime":      warned("Incus sets no real-time scheduling budget"),
	"cpu_shares":          warned("use deploy.resources.limits.cpus; Incus weights CPU time by limits.cpu.priority per instance"),
	"credential_spec":     warned("Windows only"),
	"develop":             warned("it configures docker compose watch"),
	"device_cgroup_rules": warned("pass devices with devices: instead"),
	"dns":                 warned("instances use the DNS server of their Incus network"),
	"dns_opt":             warned("instances use the DNS settings of their Incus network"),
	"dns_search":          warned("instances use the DNS domain of their Incus network"),
	"domainname":          warned("set the domain in hostname instead"),
	"expose":              warned("instances reach each other's ports directly; there is nothing to open"),
	"external_links":      warned("instances reach each other by service name"),
	"gpus":                warned("GPU passthrough is not mapped yet; add an Incus gpu device to the profile"),
	"group_add":           warned("only the first process's uid:gid can be set (user:)"),
	"ipc":                 warned("every instance has its own IPC namespace"),
	"isolation":           warned("Windows only"),
	"links":               warned("instances reach each other by service name"),
	"logging":             warned("Incus keeps each instance's console output instead: incus console --show-log"),
	"mac_address":         warned("Incus assigns the MAC addresses of instance network devices"),
	"mem_swappiness":      warned("Incus controls swap per instance with limits.memory.swap"),
	"memswap_limit":       warned("Incus controls swap per instance with limits.memory.swap"),
	"models":              warned("it attaches Docker Model Runner models"),
	"network_mode":        warned("every instance has its own network namespace"),
	"oom_kill_disable":    warned("Incus sets no OOM-killer exemption"),
	"oom_score_adj":       warned("Incus sets no OOM score per instance"),
	"pid":                 warned("every instance has its own PID namespace"),
	"post_start":          warned("Compose lifecycle hooks have no Incus equivalent"),
	"pre_start":           warned("Compose lifecycle hooks have no Incus equivalent"),
	"pre_stop":            warned("Compose lifecycle hooks have no Incus equivalent"),
	"provider":            warned("Compose provider services have no Incus equivalent"),
	"pull_policy":         warned("images are resolved in the cluster on every run"),
	"pull_refresh_after":  warned("images are resolved in the cluster on every run"),
	"read_only":           warned("Incus cannot mount a container's root read-only"),
	"runtime":             warned("Incus runs containers with LXC"),
	"stdin_open":          warned("instances have no attached terminal; use incus exec or incus console"),
	"storage_opt":         warned("set the root disk's size on the profile's root device"),
	"tty":                 warned("instances have no attached terminal; use incus exec or incus console"),
	"umask":               warned("Incus sets no umask for the first process"),
	"use_api_socket":      warned("there is no Docker API inside an Incus instance"),
	"userns_mode":         warned("Incus gives every unprivileged container its own user namespace"),
	"uts":                 warned("every instance has its own UTS namespace (set hostname: instead)"),
	"volumes_from":        warned("instances share no mounts; use a named volume"),
}

// deployKeys and healthcheckKeys do the same for the nested mappings the
// fleet reads key by key.
var deployKeys = map[string]handled{
	"mode": mapped, "replicas": mapped, "placement": mapped, "resources": mapped,
	"restart_policy": mapped, "update_config": mapped, "rollback_config": mapped,
	"labels":        mapped,
	"endpoint_mode": warned("Incus has no service virtual IP or DNS round-robin"),
}

var healthcheckKeys = map[string]handled{
	"test": mapped, "interval": mapped, "timeout": mapped, "retries": mapped,
	"start_period": mapped, "start_interval": mapped, "disable": mapped,
}

// keyWarnings lists, per service, the warnings for keys the service sets
// that have no Incus equivalent. It reads the loader's model (the keys as
// written, after merging); a key set to Docker's own default is not reported.
func keyWarnings(dict map[string]any) map[string][]string {
	out := map[string][]string{}
	services, _ := dict["services"].(map[string]any)
	for name, raw := range services {
		svc, _ := raw.(map[string]any)
		for key, val := range svc {
			if h, ok := serviceKeys[key]; ok && h.why != "" && !isDefaultValue(key, val) {
				out[name] = append(out[name], unsupported(name, key, h.why))
			}
		}
		deploy, _ := svc["deploy"].(map[string]any)
		for key := range deploy {
			if h, ok := deployKeys[key]; ok && h.why != "" {
				out[name] = append(out[name], unsupported(name, "deploy."+key, h.why))
			}
		}
		out[name] = append(out[name], gpuWarnings(name, deploy)...)
	}
	return out
}

// zeroIsDefault are the numeric keys for which 0 is what Docker does when
// the key is absent; for others (mem_swappiness: 0) 0 changes behaviour.
var zeroIsDefault = map[string]bool{
	"cpu_count": true, "cpu_percent": true, "cpu_period": true, "cpu_quota": true,
	"cpu_rt_period": true, "cpu_rt_runtime": true, "cpu_shares": true, "oom_score_adj": true,
}

// isDefaultValue tells a key set to what Docker does anyway (read_only:
// false, tty: false, stdin_open: false, dns: [], ...): ignoring it changes
// nothing, so warning about it would be a false alarm.
func isDefaultValue(key string, v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case string:
		return x == "" || x == "false" || (zeroIsDefault[key] && x == "0")
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return zeroIsDefault[key] && asInt(v) == 0 && fmt.Sprint(v) == "0"
}

// gpuWarnings reports device reservations (deploy.resources.reservations.
// devices, where Compose asks for GPUs) and generic resources.
func gpuWarnings(service string, deploy map[string]any) []string {
	res, _ := deploy["resources"].(map[string]any)
	var out []string
	for _, level := range []string{"limits", "reservations"} {
		m, _ := res[level].(map[string]any)
		for _, key := range []string{"devices", "generic_resources"} {
			if m[key] == nil {
				continue
			}
			why := "device reservations such as GPUs are not mapped yet; add an Incus gpu device to the profile and a node.labels constraint"
			if key == "generic_resources" {
				why = "Incus members advertise no generic resources; use node.labels constraints"
			}
			out = append(out, unsupported(service, strings.Join([]string{"deploy.resources", level, key}, "."), why))
		}
	}
	return out
}
