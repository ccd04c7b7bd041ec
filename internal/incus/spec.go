package incus

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// PublishAddressLabel is the member label (user.publish_address) holding the
// address published ports bind to when the service names no host_ip.
const PublishAddressLabel = "publish_address"

// KeyImage records the image reference as written, for status output.
const KeyImage = "user.fleet.image"

// InstanceSpec builds the Incus instance for one plan step. hash is the
// slot's full expected hash (service hash plus image fingerprint).
func InstanceSpec(stack string, svc *model.Service, step model.Step, img Image, member model.Member, hash string) InstancesPost {
	cfg := map[string]string{
		model.KeyStack:   stack,
		model.KeyService: svc.Name,
		model.KeySlot:    strconv.Itoa(step.Slot),
		model.KeyHash:    hash,
		KeyImage:         img.Ref,
	}
	// Swarm templates ({{.Task.Slot}}, ...) are expanded here, where the
	// member is known; the hash above is of the templates as written.
	task := model.TaskContext{Service: svc.Name, Member: step.Member, Slot: step.Slot, Instance: step.Instance}
	for k, v := range svc.Environment {
		cfg["environment."+k] = model.ExpandTemplates(v, task)
	}
	for k, v := range svc.Labels {
		cfg[model.KeyLabelPrefix+k] = v
	}
	for k, v := range resourceConfig(svc.Deploy.Resources) {
		cfg[k] = v
	}
	for k, v := range restartConfig(svc.Deploy.RestartPolicy) {
		cfg[k] = v
	}
	var raw []string
	if img.oci != nil { // spec_oci.go
		if ep, ok := ociProcess(svc, img); ok {
			cfg["oci.entrypoint"] = ep
		}
	} else if cmd := initCommand(svc); cmd != "" {
		raw = append(raw, initCmdLXC)
		cfg[initEnvKey] = cmd
	}
	// Process, security and mount settings: spec_process.go, spec_security.go, spec_mounts.go.
	rtCfg, rtRaw := runtimeConfig(svc, task)
	secCfg, secRaw := securityConfig(svc.Runtime)
	maps.Copy(cfg, rtCfg)
	maps.Copy(cfg, secCfg)
	raw = append(raw, rtRaw...)
	raw = append(raw, secRaw...)
	raw = append(raw, tmpfsMounts(svc.Runtime)...) // spec_tmpfs.go: the tmpfs and shm_size keys
	raw = append(raw, tmpfsMountLines(svc)...)     // spec_volumes.go: type: tmpfs mounts
	if r := rawLXC(raw); r != "" {
		cfg["raw.lxc"] = r
	}
	if v := publishedValue(svc.Ports, step.HostPorts); v != "" { // spec_ports.go
		cfg[KeyPublished] = v
	}
	devices := proxyDevices(svc.Ports, step.HostPorts, member)
	maps.Copy(devices, mountDevices(svc.Runtime, task))
	post := InstancesPost{
		Name:     step.Instance,
		Type:     InstanceTypeContainer,
		Source:   img.Source,
		Config:   cfg,
		Devices:  devices,
		Profiles: []string{"default"},
	}
	post.addressHook = wantsAddressHook(svc, img) // spec_dhcp.go
	return post
}

// resourceConfig maps deploy.resources.limits. Fractional CPUs become a hard
// CFS quota, which is what Docker's --cpus means.
func resourceConfig(r model.Resources) map[string]string {
	cfg := map[string]string{}
	if r.LimitCPUs > 0 {
		whole := math.Ceil(r.LimitCPUs)
		cfg["limits.cpu"] = strconv.Itoa(int(whole))
		if whole != r.LimitCPUs {
			cfg["limits.cpu.allowance"] = fmt.Sprintf("%dms/100ms", int(math.Round(r.LimitCPUs*100)))
		}
	}
	if r.LimitMemoryBytes > 0 {
		cfg["limits.memory"] = strconv.FormatInt(r.LimitMemoryBytes, 10) + "B"
	}
	if r.LimitPids > 0 {
		cfg["limits.processes"] = strconv.FormatInt(r.LimitPids, 10)
	}
	return cfg
}

// restartConfig maps restart_policy.condition onto Incus boot behaviour.
func restartConfig(p model.RestartPolicy) map[string]string {
	on := "true"
	if p.Condition == "none" {
		on = "false"
	}
	return map[string]string{"boot.autostart": on, "boot.autorestart": on}
}

// LXC splits lxc.init.cmd on spaces with no quoting, so the quoted command
// travels in an environment variable and a space-free word evals it: the
// unquoted $IFS splits "eval" from the quoted variable.
const (
	initEnvKey = "environment.INCUS_FLEET_INIT"
	initCmdLXC = `lxc.init.cmd = /bin/sh -c eval$IFS"$INCUS_FLEET_INIT"`
)

// initCommand makes entrypoint + command the container's first process, as
// Incus itself does for OCI images, after bringing loopback up (no init does
// it then, and proxy devices connect to 127.0.0.1). The image needs /bin/sh.
// The NICs get their addresses from the start hook (spec_dhcp.go), which
// runs as root even under user:.
// Empty when the image's own init should run.
func initCommand(svc *model.Service) string {
	argv := append(append([]string{}, svc.Entrypoint...), svc.Command...)
	if len(argv) == 0 {
		return ""
	}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shellQuote(a)
	}
	return "ip link set lo up 2>/dev/null || ifconfig lo up 2>/dev/null; exec " + strings.Join(quoted, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// proxyDevices publishes ports through Incus proxy devices. The listen side
// binds host_ip, else the member's publish_address label, else all addresses.
func proxyDevices(ports []model.Port, hostPorts []int, member model.Member) map[string]map[string]string {
	devices := map[string]map[string]string{}
	for i, p := range ports {
		if i >= len(hostPorts) || hostPorts[i] == 0 {
			continue
		}
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		host := p.HostIP
		if host == "" {
			host = member.Labels[PublishAddressLabel]
		}
		if host == "" {
			host = "0.0.0.0"
		}
		name := fmt.Sprintf("port-%d-%s", hostPorts[i], proto)
		devices[name] = map[string]string{
			"type":    "proxy",
			"listen":  fmt.Sprintf("%s:%s:%d", proto, host, hostPorts[i]),
			"connect": fmt.Sprintf("%s:127.0.0.1:%d", proto, p.Target),
		}
	}
	return devices
}
