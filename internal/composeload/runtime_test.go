package composeload

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

func TestRuntimeKeysMapped(t *testing.T) {
	st := mustLoad(t, `
services:
  app:
    image: busybox
    user: "1000:1001"
    working_dir: /srv
    stop_grace_period: 1m30s
    stop_signal: term
    sysctls: {net.core.somaxconn: "1024"}
    ulimits:
      nproc: 65535
      nofile: {soft: 1000, hard: 2000}
    cap_add: [SYS_PTRACE]
    cap_drop: [NET_RAW, cap_mknod]
    security_opt: ["no-new-privileges:true"]
    hostname: app.example
    extra_hosts: ["gw.example=192.0.2.1", "db.example:192.0.2.2"]
    tmpfs: ["/run", "/scratch:size=1m,mode=1770,noexec"]
    shm_size: 64m
    cpuset: "0-1"
    devices: ["/dev/fuse", "/dev/sdb:/dev/xvdb:rwm"]
    volumes: ["/var/run/docker.sock:/var/run/docker.sock", "/srv/data:/data:ro"]
    platform: linux/arm64
    healthcheck: {test: [CMD, "true"], start_period: 10s, start_interval: 1s}
    depends_on:
      db: {condition: service_healthy}
      cache:
        condition: service_started
        restart: true
    deploy:
      labels: {traefik.enable: "true"}
  db: {image: busybox}
  cache: {image: busybox}
`)
	app := st.Service("app")
	rt := app.Runtime
	if rt.UID == nil || *rt.UID != 1000 || rt.GID == nil || *rt.GID != 1001 || rt.WorkingDir != "/srv" {
		t.Errorf("user/working_dir: %+v", rt)
	}
	if rt.StopGracePeriod != 90*time.Second || rt.StopSignal != "SIGTERM" {
		t.Errorf("stop: %s %s", rt.StopGracePeriod, rt.StopSignal)
	}
	if rt.Sysctls["net.core.somaxconn"] != "1024" || rt.Ulimits["nofile"] != (model.Ulimit{Soft: 1000, Hard: 2000}) || rt.Ulimits["nproc"] != (model.Ulimit{Soft: 65535, Hard: 65535}) {
		t.Errorf("sysctls/ulimits: %v %v", rt.Sysctls, rt.Ulimits)
	}
	if strings.Join(rt.CapDrop, ",") != "mknod,net_raw" || rt.CapKeep != nil || !rt.NoNewPrivileges {
		t.Errorf("caps: drop %v keep %v nnp %v", rt.CapDrop, rt.CapKeep, rt.NoNewPrivileges)
	}
	if rt.Hostname != "app.example" || len(rt.ExtraHosts) != 2 || rt.ExtraHosts[0] != (model.HostEntry{Name: "db.example", Address: "192.0.2.2"}) {
		t.Errorf("hostname/extra_hosts: %q %v", rt.Hostname, rt.ExtraHosts)
	}
	if len(rt.Tmpfs) != 2 || rt.Tmpfs[1].SizeBytes != 1<<20 || rt.Tmpfs[1].Mode != 0o1770 || strings.Join(rt.Tmpfs[1].Options, ",") != "noexec" || rt.ShmSizeBytes != 64<<20 || rt.CPUSet != "0-1" {
		t.Errorf("tmpfs/shm/cpuset: %+v %d %q", rt.Tmpfs, rt.ShmSizeBytes, rt.CPUSet)
	}
	if len(rt.Devices) != 2 || rt.Devices[0] != (model.Device{Source: "/dev/fuse", Target: "/dev/fuse"}) || !rt.Devices[1].Block || rt.Devices[1].Target != "/dev/xvdb" {
		t.Errorf("devices: %+v", rt.Devices)
	}
	if len(rt.HostBinds) != 2 || rt.HostBinds[1] != (model.HostBind{Source: "/srv/data", Target: "/data", ReadOnly: true}) || len(app.Files) != 0 {
		t.Errorf("host binds: %+v (files %v)", rt.HostBinds, app.Files)
	}
	if got := app.Deploy.Placement.Constraints; len(got) != 1 || got[0] != "node.platform.arch==arm64" {
		t.Errorf("platform: constraints %v", got)
	}
	if app.Healthcheck.StartInterval != time.Second || app.Deploy.Labels["traefik.enable"] != "true" {
		t.Errorf("start_interval %s, deploy.labels %v", app.Healthcheck.StartInterval, app.Deploy.Labels)
	}
	if len(app.DependsOn) != 2 || app.DependsOn[1] != (model.Dependency{Service: "db", Condition: model.DependsHealthy, Required: true}) {
		t.Errorf("depends_on: %+v", app.DependsOn)
	}
	warnings := strings.Join(st.Warnings, "\n")
	for _, want := range []string{
		`service "app": bind mount of host path /srv/data at /data mounts that path of the member each instance runs on: it must exist on every member that may run the service`,
		`service "app": depends_on.cache.restart is not supported on Incus`,
	} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings lack %q:\n%s", want, warnings)
		}
	}
	if strings.Contains(warnings, "cap_add") {
		t.Errorf("cap_add SYS_PTRACE is already held in an unprivileged container; no warning expected:\n%s", warnings)
	}
}

func TestRuntimeKeysReported(t *testing.T) {
	st := mustLoad(t, `
services:
  app:
    image: busybox
    user: postgres
    privileged: true
    init: true
    container_name: app
    cap_add: [SYS_TIME]
    security_opt: ["apparmor:unconfined"]
    cap_drop: [ALL]
`)
	rt := st.Service("app").Runtime
	if rt.UID != nil || rt.User != "postgres" || !rt.Privileged || strings.Join(rt.CapKeep, ",") != "sys_time" {
		t.Errorf("runtime %+v", rt)
	}
	want := []string{
		`service "app": container_name is not supported on Incus (instances are named <service>-<slot>, here app-1, so a rolling update can run the next one beside it); ignored`,
		`service "app": init is not supported on Incus (Incus runs the service's command as the container's first process and has no init to put in front of it; use an image whose entrypoint reaps children (tini, dumb-init)); ignored`,
		`service "app": privileged maps to security.privileged=true: root in its instances is root on the member (no user namespace); drop it unless the service really needs it`,
		`service "app": security_opt apparmor:unconfined is not supported on Incus (Incus applies its own AppArmor and seccomp profiles to every container; only no-new-privileges maps); ignored`,
	}
	if strings.Join(st.Warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(st.Warnings, "\n"), strings.Join(want, "\n"))
	}
}

// TestContainerNameWithSeveralInstancesIgnored: as Swarm, container_name
// on a service with several instances is ignored with a warning naming the
// instance names used instead, and the stack loads.
func TestContainerNameWithSeveralInstancesIgnored(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"deploy: {replicas: 3}", `service "app": container_name "xy" is ignored, as Swarm does: one name cannot name 3 replicas; the instances are named app-1, app-2, app-3`},
		{"scale: 2", `service "app": container_name "xy" is ignored, as Swarm does: one name cannot name 2 replicas; the instances are named app-1, app-2`},
		{"deploy: {replicas: 40}", `service "app": container_name "xy" is ignored, as Swarm does: one name cannot name 40 replicas; the instances are named app-1, app-2, ..., app-40`},
		{"deploy: {mode: global}", `service "app": container_name "xy" is ignored, as Swarm does: one name cannot name the instances of a global service (one per member); the instances are named app-1, app-2, ... (one slot per member)`},
	} {
		st := mustLoad(t, "services:\n  app:\n    image: busybox\n    container_name: xy\n    "+c.yaml+"\n")
		if strings.Join(st.Warnings, "\n") != c.want {
			t.Errorf("%s: warnings\n%s\nwant\n%s", c.yaml, strings.Join(st.Warnings, "\n"), c.want)
		}
	}
}

func TestRuntimeKeysRefused(t *testing.T) {
	for _, c := range []struct{ yaml, field, fragment string }{
		{"platform: windows/amd64", "services.app.platform", "not a Linux platform"},
		{"ulimits: {files: 10}", "services.app.ulimits.files", "not a resource limit Incus knows"},
		{"working_dir: srv", "services.app.working_dir", "absolute path"},
		{"extra_hosts: [\"gw:host-gateway\"]", "services.app.extra_hosts.gw", "host-gateway"},
		{"tmpfs: [\"/x:uid=1000\"]", "services.app.tmpfs[0]", "not supported"},
		{"devices: [\"nvidia.com/gpu=all\"]", "services.app.devices[0]", "CDI"},
	} {
		_, err := loadInline(t, "services:\n  app:\n    image: busybox\n    "+c.yaml+"\n")
		wantError(t, err, c.field, c.fragment)
	}
}

func TestDependsOnCycleIsInvalid(t *testing.T) {
	_, err := loadInline(t, "services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [c]}\n  c: {image: x, depends_on: [a]}\n")
	wantError(t, err, "compose", "dependency cycle detected", "a -> b -> c -> a")
}

// TestLoaderLogsBecomeWarnings: compose-go's log lines go into warnings,
// never to stderr.
func TestLoaderLogsBecomeWarnings(t *testing.T) {
	var buf bytes.Buffer
	logrus.SetOutput(&buf)
	defer logrus.SetOutput(os.Stderr)
	st := mustLoad(t, "version: \"3.8\"\nservices:\n  web: {image: busybox}\n")
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "the attribute `version` is obsolete") {
		t.Errorf("warnings %q", st.Warnings)
	}
	if buf.Len() != 0 {
		t.Errorf("compose-go logged %q", buf.String())
	}
}

func TestUnsetVariableNamedInLoadError(t *testing.T) {
	_, err := loadInline(t, "services:\n  db:\n    image: busybox\n    volumes: [\"${DATA_DIR}:/var/lib/postgresql/data\"]\n",
		func(o *Options) { o.LookupEnv = func(string) (string, bool) { return "", false } })
	wantError(t, err, "compose", `variable "DATA_DIR" is not set (used in `, ":4 services.db.volumes[0])")
}

func TestDuplicateErrorLinesOnce(t *testing.T) {
	if got := uniqueLines("a\nb\na\nb\nc"); got != "a\nb\nc" {
		t.Errorf("uniqueLines = %q", got)
	}
}

// TestUserForms: numeric ids map at load; a name (alone or mixed with a
// number) is kept as written for the instance to resolve; a malformed
// user: is refused naming the field.
func TestUserForms(t *testing.T) {
	for user, want := range map[string]string{
		`"1000"`:           "uid 1000 gid - name ",
		`"1000:1001"`:      "uid 1000 gid 1001 name ",
		`postgres`:         "uid - gid - name postgres",
		`"postgres:staff"`: "uid - gid - name postgres:staff",
		`"1000:staff"`:     "uid - gid - name 1000:staff",
	} {
		st := mustLoad(t, "services:\n  app:\n    image: busybox\n    user: "+user+"\n")
		rt := st.Service("app").Runtime
		id := func(p *int64) string {
			if p == nil {
				return "-"
			}
			return strconv.FormatInt(*p, 10)
		}
		if got := "uid " + id(rt.UID) + " gid " + id(rt.GID) + " name " + rt.User; got != want {
			t.Errorf("user: %s gives %q, want %q", user, got, want)
		}
		if len(st.Warnings) != 0 {
			t.Errorf("user: %s warned: %q", user, st.Warnings)
		}
	}
	for _, user := range []string{`":1000"`, `"app:"`, `"a:b:c"`, `"a b"`} {
		_, err := loadInline(t, "services:\n  app:\n    image: busybox\n    user: "+user+"\n")
		wantError(t, err, "services.app.user", "is not a user")
	}
}
