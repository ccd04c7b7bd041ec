package incus

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// TestRuntimeSpec: the instance config and devices each runtime key turns
// into (the real-cluster check is integration.TestComposeRuntimeMappings).
func TestRuntimeSpec(t *testing.T) {
	uid, gid := int64(1000), int64(1001)
	svc := &model.Service{Name: "app", Command: []string{"sleep", "1"}, Runtime: model.Runtime{
		UID: &uid, GID: &gid, WorkingDir: "/srv", StopGracePeriod: 1500 * time.Millisecond, StopSignal: "SIGTERM",
		Sysctls: map[string]string{"net.core.somaxconn": "1024"}, Ulimits: map[string]model.Ulimit{"nofile": {Soft: 10, Hard: 20}, "core": {Soft: -1, Hard: -1}},
		Privileged: true, CapDrop: []string{"net_raw"}, NoNewPrivileges: true, Hostname: "h",
		Tmpfs: []model.Tmpfs{{Target: "/run", SizeBytes: 1 << 20, Mode: 0o1777, Options: []string{"noexec"}}}, ShmSizeBytes: 2 << 20,
		Devices:   []model.Device{{Source: "/dev/fuse", Target: "/dev/fuse"}, {Source: "/dev/sdb", Target: "/dev/xvdb", Block: true}},
		HostBinds: []model.HostBind{{Source: "/srv/data", Target: "/data", ReadOnly: true}}, CPUSet: "0-1",
	}, Deploy: model.DeploySpec{Labels: map[string]string{"traefik.enable": "true"}}}
	post := InstanceSpec("s", svc, model.Step{Instance: "app-1", Slot: 1}, Image{}, model.Member{}, "h")
	cfg := post.Config
	for k, want := range map[string]string{
		"boot.host_shutdown_timeout":      "2",
		"linux.sysctl.net.core.somaxconn": "1024",
		"limits.kernel.nofile":            "10:20",
		"limits.kernel.core":              "unlimited",
		"security.privileged":             "true",
		"limits.cpu":                      "0-1",
		"user.fleet.label.traefik.enable": "true",
	} {
		if cfg[k] != want {
			t.Errorf("%s = %q, want %q", k, cfg[k], want)
		}
	}
	wantRaw := strings.Join([]string{
		`lxc.init.cmd = /bin/sh -c eval$IFS"$INCUS_FLEET_INIT"`,
		"lxc.cap.drop = net_raw",
		"lxc.init.cwd = /srv",
		"lxc.init.gid = 1001",
		"lxc.init.uid = 1000",
		"lxc.mount.entry = tmpfs dev/shm tmpfs create=dir,nosuid,nodev,mode=1777,size=2097152 0 0",
		"lxc.mount.entry = tmpfs run tmpfs create=dir,noexec,size=1048576,mode=1777 0 0",
		"lxc.no_new_privs = 1",
		"lxc.signal.halt = SIGTERM",
		"lxc.uts.name = h",
	}, "\n")
	if cfg["raw.lxc"] != wantRaw {
		t.Errorf("raw.lxc =\n%s\nwant\n%s", cfg["raw.lxc"], wantRaw)
	}
	for name, want := range map[string]string{
		"bind-0":   "map[path:/data readonly:true source:/srv/data type:disk]",
		"device-0": "map[path:/dev/fuse source:/dev/fuse type:unix-char]",
		"device-1": "map[path:/dev/xvdb source:/dev/sdb type:unix-block]",
	} {
		if got := fmtMap(post.Devices[name]); got != want {
			t.Errorf("device %s = %s, want %s", name, got, want)
		}
	}
	if StopTimeout(cfg) != 2*time.Second {
		t.Errorf("StopTimeout = %s", StopTimeout(cfg))
	}
	// A service without runtime keys gets no raw.lxc at all.
	plain := InstanceSpec("s", &model.Service{Name: "web"}, model.Step{Instance: "web-1", Slot: 1}, Image{}, model.Member{}, "h")
	if _, ok := plain.Config["raw.lxc"]; ok || len(plain.Devices) != 0 {
		t.Errorf("plain service: raw.lxc %q, devices %v", plain.Config["raw.lxc"], plain.Devices)
	}
}

func fmtMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ":" + m[k]
	}
	return "map[" + strings.Join(parts, " ") + "]"
}
