package composeload

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// toRuntime maps the keys that shape the container's processes (user,
// working_dir, stop_grace_period, sysctls, ulimits, ...). Each has an Incus
// equivalent (internal/incus/spec_*.go); parts that have none are warned
// about here, by name.
func toRuntime(s types.ServiceConfig, w *warnings) (model.Runtime, error) {
	var rt model.Runtime
	var err error
	if rt.UID, rt.GID, rt.User, err = toUser(s); err != nil {
		return rt, err
	}
	if s.WorkingDir != "" {
		if !strings.HasPrefix(s.WorkingDir, "/") {
			return rt, serviceErr(s.Name, "working_dir", "%q must be an absolute path inside the container", s.WorkingDir)
		}
		rt.WorkingDir = s.WorkingDir
	}
	if s.StopGracePeriod != nil {
		if *s.StopGracePeriod < 0 {
			return rt, serviceErr(s.Name, "stop_grace_period", "%s is negative; use a duration such as 10s", time.Duration(*s.StopGracePeriod))
		}
		rt.StopGracePeriod = time.Duration(*s.StopGracePeriod)
	}
	if rt.StopSignal, err = toSignal(s); err != nil {
		return rt, err
	}
	if rt.Sysctls, err = toSysctls(s); err != nil {
		return rt, err
	}
	if rt.Ulimits, err = toUlimits(s); err != nil {
		return rt, err
	}
	if s.Privileged {
		rt.Privileged = true
		w.add(fmt.Sprintf("service %q: privileged maps to security.privileged=true: root in its instances is root on the member (no user namespace); drop it unless the service really needs it", s.Name))
	}
	rt.CapDrop, rt.CapKeep = toCapabilities(s, w)
	rt.NoNewPrivileges = toSecurityOpt(s, w)
	if rt.Devices, err = toDevices(s, w); err != nil {
		return rt, err
	}
	if s.Hostname != "" {
		if err := checkHostname(s); err != nil { // templates.go
			return rt, err
		}
		rt.Hostname = s.Hostname
	}
	if rt.ExtraHosts, err = toExtraHosts(s); err != nil {
		return rt, err
	}
	if rt.Tmpfs, err = toTmpfs(s); err != nil {
		return rt, err
	}
	if s.ShmSize < 0 {
		return rt, serviceErr(s.Name, "shm_size", "must be a positive size such as 64m")
	}
	rt.ShmSizeBytes = int64(s.ShmSize)
	if s.CPUSet != "" {
		if !cpusetRe.MatchString(s.CPUSet) {
			return rt, serviceErr(s.Name, "cpuset", "%q is not a CPU list such as 0-3 or 1,3", s.CPUSet)
		}
		rt.CPUSet = s.CPUSet
	}
	if s.Init != nil && *s.Init {
		w.add(unsupported(s.Name, "init", "Incus runs the service's command as the container's first process and has no init to put in front of it; use an image whose entrypoint reaps children (tini, dumb-init)"))
	}
	return rt, nil
}

// unsupported is the one form every ignored key is reported in, shaped like
// Swarm's "Ignoring unsupported options".
func unsupported(service, key, why string) string {
	return fmt.Sprintf("service %q: %s is not supported on Incus (%s); ignored", service, key, why)
}

// toUser maps user: "uid[:gid]" to the first process's numeric ids
// (lxc.init.uid/gid). A name ("postgres", "postgres:postgres", "1000:www")
// lives in the image's /etc/passwd and /etc/group, which are only known
// inside the instance: it is kept as written and resolved there, after
// the instance is created and before it starts (internal/incus/user.go).
func toUser(s types.ServiceConfig) (uid, gid *int64, name string, err error) {
	if s.User == "" {
		return nil, nil, "", nil
	}
	u, g, hasGroup := strings.Cut(s.User, ":")
	if u == "" || (hasGroup && g == "") || strings.ContainsAny(s.User, " \t\n/") || strings.Count(s.User, ":") > 1 {
		return nil, nil, "", serviceErr(s.Name, "user", "%q is not a user: give uid, uid:gid, name or name:group", s.User)
	}
	parse := func(v string) (*int64, bool) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > 1<<32-2 {
			return nil, false
		}
		return &n, true
	}
	uid, okU := parse(u)
	if hasGroup {
		var okG bool
		if gid, okG = parse(g); !okG {
			okU = false
		}
	}
	if !okU {
		return nil, nil, s.User, nil
	}
	return uid, gid, "", nil
}

// toSignal normalises stop_signal to the SIGNAME form LXC reads.
func toSignal(s types.ServiceConfig) (string, error) {
	if s.StopSignal == "" {
		return "", nil
	}
	sig := strings.ToUpper(strings.TrimSpace(s.StopSignal))
	if n, err := strconv.Atoi(sig); err == nil && n > 0 && n < 65 {
		return sig, nil
	}
	if !strings.HasPrefix(sig, "SIG") {
		sig = "SIG" + sig
	}
	if !signalRe.MatchString(sig) {
		return "", serviceErr(s.Name, "stop_signal", "%q is not a signal name such as SIGTERM or SIGQUIT", s.StopSignal)
	}
	return sig, nil
}

var (
	cpusetRe   = regexp.MustCompile(`^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$`)
	signalRe   = regexp.MustCompile(`^SIG[A-Z0-9+-]+$`)
	sysctlRe   = regexp.MustCompile(`^[a-z0-9_]+(\.[A-Za-z0-9_-]+)+$`)
	hostnameRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
)

func toSysctls(s types.ServiceConfig) (map[string]string, error) {
	if len(s.Sysctls) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, k := range sortedKeys(s.Sysctls) {
		if !sysctlRe.MatchString(k) {
			return nil, serviceErr(s.Name, "sysctls."+k, "is not a sysctl name such as net.core.somaxconn")
		}
		out[k] = s.Sysctls[k]
	}
	return out, nil
}

// kernelLimits are the resource limits Incus sets as limits.kernel.<name>.
var kernelLimits = []string{"as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"}

func toUlimits(s types.ServiceConfig) (map[string]model.Ulimit, error) {
	if len(s.Ulimits) == 0 {
		return nil, nil
	}
	out := map[string]model.Ulimit{}
	for _, name := range sortedKeys(s.Ulimits) {
		u := s.Ulimits[name]
		attr := "ulimits." + name
		if !slices.Contains(kernelLimits, name) {
			return nil, serviceErr(s.Name, attr, "is not a resource limit Incus knows; use one of %s", strings.Join(kernelLimits, ", "))
		}
		if u == nil {
			continue
		}
		l := model.Ulimit{Soft: int64(u.Soft), Hard: int64(u.Hard)}
		if u.Single != 0 {
			l = model.Ulimit{Soft: int64(u.Single), Hard: int64(u.Single)}
		}
		if l.Soft < -1 || l.Hard < -1 || (l.Hard >= 0 && l.Soft > l.Hard) {
			return nil, serviceErr(s.Name, attr, "soft %d and hard %d: both must be positive (or -1 for unlimited) and soft at most hard", l.Soft, l.Hard)
		}
		out[name] = l
	}
	return out, nil
}

// capsIncusDrops are the capabilities Incus withholds from unprivileged
// containers whatever raw.lxc keeps (they act on the whole host).
var capsIncusDrops = []string{"mac_admin", "mac_override", "sys_module", "sys_time"}

// toCapabilities maps cap_drop to lxc.cap.drop; cap_drop: [ALL] with
// cap_add makes the added ones the complete set (lxc.cap.keep). An
// unprivileged Incus container already holds every other capability inside
// its user namespace, so cap_add alone needs nothing, except for the
// capabilities Incus withholds, which are reported.
func toCapabilities(s types.ServiceConfig, w *warnings) (drop, keep []string) {
	norm := func(list []string) []string {
		var out []string
		for _, c := range list {
			c = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(c)), "cap_")
			if c != "" {
				out = append(out, c)
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	add, dropped := norm(s.CapAdd), norm(s.CapDrop)
	var withheld []string
	for _, c := range add {
		if slices.Contains(capsIncusDrops, c) || (c == "all" && !s.Privileged) {
			withheld = append(withheld, c)
		}
	}
	if len(withheld) > 0 && !s.Privileged {
		w.add(unsupported(s.Name, "cap_add "+strings.Join(withheld, ", "), "unprivileged Incus containers never hold "+strings.Join(capsIncusDrops, ", ")+"; every other capability is already held inside the container's user namespace"))
	}
	if slices.Contains(dropped, "all") {
		keep = slices.DeleteFunc(slices.Clone(add), func(c string) bool { return c == "all" })
		if len(keep) == 0 {
			keep = []string{"none"}
		}
		return nil, keep
	}
	return dropped, nil
}

// toSecurityOpt maps no-new-privileges (lxc.no_new_privs); apparmor,
// seccomp and label options name Docker profiles Incus does not have.
func toSecurityOpt(s types.ServiceConfig, w *warnings) bool {
	nnp := false
	var other []string
	for _, o := range s.SecurityOpt {
		switch strings.ToLower(strings.TrimSpace(o)) {
		case "no-new-privileges", "no-new-privileges:true", "no-new-privileges=true":
			nnp = true
		case "no-new-privileges:false", "no-new-privileges=false":
		default:
			other = append(other, o)
		}
	}
	if len(other) > 0 {
		w.add(unsupported(s.Name, "security_opt "+strings.Join(other, ", "), "Incus applies its own AppArmor and seccomp profiles to every container; only no-new-privileges maps"))
	}
	return nnp
}

// blockDevicePrefixes tell block devices from character devices by path,
// since the planning machine cannot look at the member's /dev.
var blockDevicePrefixes = []string{"/dev/sd", "/dev/vd", "/dev/xvd", "/dev/hd", "/dev/nvme", "/dev/loop", "/dev/dm-", "/dev/mapper/", "/dev/md", "/dev/mmcblk", "/dev/nbd", "/dev/zd", "/dev/disk/"}

func toDevices(s types.ServiceConfig, w *warnings) ([]model.Device, error) {
	var out []model.Device
	for i, d := range s.Devices {
		attr := fmt.Sprintf("devices[%d]", i)
		if !strings.HasPrefix(d.Source, "/dev/") {
			return nil, serviceErr(s.Name, attr, "source %q must be a device under /dev (CDI device names are not supported)", d.Source)
		}
		target := d.Target
		if target == "" {
			target = d.Source
		}
		if !strings.HasPrefix(target, "/") {
			return nil, serviceErr(s.Name, attr, "target %q must be an absolute path inside the container", target)
		}
		if p := d.Permissions; p != "" && p != "rwm" {
			w.add(unsupported(s.Name, attr+" permissions "+p, "Incus grants read, write and mknod on a passed-through device"))
		}
		block := false
		for _, prefix := range blockDevicePrefixes {
			if strings.HasPrefix(d.Source, prefix) {
				block = true
			}
		}
		out = append(out, model.Device{Source: d.Source, Target: target, Block: block})
	}
	return out, nil
}

func toExtraHosts(s types.ServiceConfig) ([]model.HostEntry, error) {
	var out []model.HostEntry
	for _, name := range sortedKeys(s.ExtraHosts) {
		for _, addr := range s.ExtraHosts[name] {
			if addr == "host-gateway" {
				return nil, serviceErr(s.Name, "extra_hosts."+name, "uses host-gateway, which has no Incus equivalent; give the address instead")
			}
			ip, err := checkExtraHost(s.Name, name, addr) // netkeys.go
			if err != nil {
				return nil, err
			}
			out = append(out, model.HostEntry{Name: name, Address: ip})
		}
	}
	return out, nil
}

// tmpfsFlags are the mount flags a tmpfs entry may carry besides size/mode.
var tmpfsFlags = []string{"ro", "rw", "noexec", "exec", "nosuid", "suid", "nodev", "dev", "noatime", "relatime"}

func toTmpfs(s types.ServiceConfig) ([]model.Tmpfs, error) {
	var out []model.Tmpfs
	for i, entry := range s.Tmpfs {
		attr := fmt.Sprintf("tmpfs[%d]", i)
		target, opts, _ := strings.Cut(entry, ":")
		t, err := cleanTarget(s.Name, attr, target)
		if err != nil {
			return nil, err
		}
		m := model.Tmpfs{Target: t}
		for _, o := range strings.Split(opts, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(o), "=")
			switch {
			case k == "":
			case k == "size":
				var n types.UnitBytes
				if err := n.UnmarshalJSON([]byte(strconv.Quote(v))); err != nil || n <= 0 {
					return nil, serviceErr(s.Name, attr, "size %q is not a size such as 64m", v)
				}
				m.SizeBytes = int64(n)
			case k == "mode":
				n, err := strconv.ParseUint(v, 8, 32)
				if err != nil {
					return nil, serviceErr(s.Name, attr, "mode %q is not an octal mode such as 1777", v)
				}
				m.Mode = uint32(n)
			case slices.Contains(tmpfsFlags, k) && v == "":
				m.Options = append(m.Options, k)
			default:
				return nil, serviceErr(s.Name, attr, "option %q is not supported; use size=, mode= or %s", o, strings.Join(tmpfsFlags, ", "))
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// toDependencies keeps depends_on in service order; restart: true (restart
// the dependent when its dependency restarts) has no Incus equivalent.
func toDependencies(s types.ServiceConfig, w *warnings) []model.Dependency {
	var out []model.Dependency
	for _, name := range slices.Sorted(maps.Keys(s.DependsOn)) {
		d := s.DependsOn[name]
		cond := d.Condition
		if cond == "" {
			cond = model.DependsStarted
		}
		if d.Restart {
			w.add(unsupported(s.Name, "depends_on."+name+".restart", "instances are not restarted when a dependency restarts; the order applies when instances are created"))
		}
		out = append(out, model.Dependency{Service: name, Condition: cond, Required: d.Required})
	}
	return out
}
