package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// incusExec runs a shell script inside an instance with the incus CLI of
// the test bed and returns its output: what the container really sees.
func incusExec(t *testing.T, project, instance, script string) string {
	t.Helper()
	cmd := exec.Command("incus", "exec", "--project", project, instance, "--", "/bin/sh", "-c", script)
	cmd.Env = append(os.Environ(), "INCUS_DIR="+filepath.Dir(os.Getenv("INCUS_SOCKET")))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("incus exec %s %q: %v\n%s", instance, script, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestComposeRuntimeMappings deploys one stack whose service uses the
// process, security and mount keys, and reads each back from inside the
// container; the dependent is created only after one dependency is
// healthy and another has completed, as Incus's lifecycle events show.
func TestComposeRuntimeMappings(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-compose-runtime"
	cleanup(t, stack)
	hostDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(hostDir, "note.txt"), []byte("from the member"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(hostDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// A first deploy creates the project, so the event listener can attach
	// before the services under test are created.
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": "services:\n  seed:\n    image: busybox\n"}).mustSucceed(t)
	rec := recordLifecycle(t, srv, stack)
	compose := `
services:
  db:
    image: busybox
    command: ["sh", "-c", "sleep 2; touch /tmp/ready; exec sleep 3600"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 500ms
      retries: 20
  migrate:
    image: busybox
    command: ["sh", "-c", "sleep 1; exit 0"]
    restart: "no"
  app:
    image: busybox
    command: ["sh", "-c", "exec sleep 3600"]
    user: "1000:1001"
    working_dir: /srv
    stop_grace_period: 3s
    stop_signal: SIGTERM
    sysctls: {net.core.somaxconn: "1024"}
    ulimits:
      nofile: {soft: 1000, hard: 2000}
    cap_drop: [NET_RAW]
    security_opt: ["no-new-privileges:true"]
    hostname: apphost
    extra_hosts: ["gw.example:192.0.2.1"]
    tmpfs: ["/scratch:size=1m"]
    shm_size: 2m
    devices: ["/dev/zero:/dev/myzero"]
    volumes: ["` + hostDir + `:/data:ro"]
    depends_on:
      db: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
    deploy:
      labels: {traefik.enable: "true", traefik.http.routers.app.rule: "Host(` + "`app.example`" + `)"}
  priv:
    image: busybox
    privileged: true
    ports: ["9099"]
`
	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose}).mustSucceed(t)
	events := rec.stop()
	if !strings.Contains(strings.Join(r.Warnings, "\n"), "must exist on every member") {
		t.Errorf("no warning about the host path: %q", r.Warnings)
	}

	// depends_on: app-1 is created only after db-1 started and turned
	// healthy, which takes it 2 s after its start.
	var dbStarted, migrateStopped, appCreated time.Time
	for _, e := range events {
		switch {
		case e.instance == "db-1" && e.action == "instance-started":
			dbStarted = e.at
		case e.instance == "migrate-1" && (e.action == "instance-stopped" || e.action == "instance-shutdown"):
			migrateStopped = e.at
		case e.instance == "app-1" && e.action == "instance-created":
			appCreated = e.at
		}
	}
	if dbStarted.IsZero() || migrateStopped.IsZero() || appCreated.IsZero() {
		t.Fatalf("missing lifecycle events: %v", events)
	}
	if appCreated.Sub(dbStarted) < 1500*time.Millisecond {
		t.Errorf("app-1 created %s after db-1 started: before db could be healthy (2 s); events: %v", appCreated.Sub(dbStarted), events)
	}
	if !appCreated.After(migrateStopped) {
		t.Errorf("app-1 created before migrate-1 completed (service_completed_successfully); events: %v", events)
	}

	checks := []struct{ what, script, want string }{
		{"user", "grep -E '^(Uid|Gid):' /proc/1/status | awk '{print $2}' | tr '\\n' ' '", "1000 1001"},
		{"working_dir", "readlink /proc/1/cwd", "/srv"},
		{"sysctls", "cat /proc/sys/net/core/somaxconn", "1024"},
		{"ulimits", "grep 'open files' /proc/1/limits | awk '{print $4, $5}'", "1000 2000"},
		{"cap_drop NET_RAW (bit 13 gone)", "grep CapBnd /proc/1/status | awk '{print $2}'", "000001ffffffdfff"},
		{"no-new-privileges", "grep NoNewPrivs /proc/1/status | awk '{print $2}'", "1"},
		{"hostname", "hostname", "apphost"},
		{"extra_hosts", "grep gw.example /etc/hosts", "192.0.2.1\tgw.example"},
		{"tmpfs", "df -k /scratch | awk 'NR==2 {print $2}'", "1024"},
		{"shm_size", "df -k /dev/shm | awk 'NR==2 {print $2}'", "2048"},
		{"devices", "test -c /dev/myzero && echo char", "char"},
		{"bind mount of a member path", "cat /data/note.txt", "from the member"},
		{"bind mount read-only", "touch /data/x 2>/dev/null && echo writable || echo read-only", "read-only"},
	}
	for _, c := range checks {
		if got := incusExec(t, stack, "app-1", c.script); got != c.want {
			t.Errorf("%s: inside app-1 %q gives %q, want %q", c.what, c.script, got, c.want)
		}
	}
	if got := incusExec(t, stack, "priv-1", "awk '{print $1, $2, $3}' /proc/self/uid_map"); got != "0 0 4294967295" {
		t.Errorf("privileged: uid_map %q, want the host's full range", got)
	}
	cfg := instanceConfig(t, srv, stack, "app-1")
	if cfg["boot.host_shutdown_timeout"] != "3" || !strings.Contains(cfg["raw.lxc"], "lxc.signal.halt = SIGTERM") {
		t.Errorf("stop_grace_period/stop_signal: %q / %q", cfg["boot.host_shutdown_timeout"], cfg["raw.lxc"])
	}

	// deploy.labels are shown by stack status (stack ps --json).
	st := call(t, "stack.status", false, map[string]any{"name": stack}).mustSucceed(t)
	var status struct {
		Instances []struct {
			Instance string            `json:"instance"`
			Labels   map[string]string `json:"labels"`
			Ports    []string          `json:"ports"`
		} `json:"instances"`
	}
	if err := json.Unmarshal(st.Raw, &status); err != nil {
		t.Fatal(err)
	}
	for _, in := range status.Instances {
		want := map[string]string(nil)
		if in.Instance == "app-1" {
			want = map[string]string{"traefik.enable": "true", "traefik.http.routers.app.rule": "Host(`app.example`)"}
		}
		if fmt.Sprint(in.Labels) != fmt.Sprint(want) {
			t.Errorf("stack status shows labels %v on %s, want %v", in.Labels, in.Instance, want)
		}
		// A port without a host port is published on the container port,
		// and status says so.
		wantPorts := "[]"
		if in.Instance == "priv-1" {
			wantPorts = "[9099:9099/tcp]"
		}
		if fmt.Sprint(in.Ports) != wantPorts {
			t.Errorf("stack status shows ports %v on %s, want %s", in.Ports, in.Instance, wantPorts)
		}
	}
}
