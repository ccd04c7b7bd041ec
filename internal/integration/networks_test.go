package integration

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Compose networks on the real cluster: the test bed's isolated LAN bridge
// is the cluster's parent bridge (testdata/testbed/lan.sh), so a plain
// Compose file gets networking. Every request below runs inside an instance
// (incus exec): nothing on the host talks to instance addresses.

// twoTier is web ×3 plus a client pinned to node1, which calls web by name.
func twoTier(greeting, order string) string {
	return fmt.Sprintf(`services:
  web:
    image: busybox
    environment:
      GREETING: %s
    deploy:
      replicas: 3
      update_config:
        order: %s
        monitor: 1s
  client:
    image: busybox
    extra_hosts: ["legacy-db:192.0.2.10"]
    deploy:
      placement:
        constraints: [node.hostname == node1]
`, greeting, order)
}

// inside runs a command in an instance through the incus client (which
// talks to the bed's socket from INCUS_SOCKET) and returns its stdout.
func inside(t testing.TB, project, instance string, argv ...string) (string, error) {
	t.Helper()
	args := append([]string{"exec", "--project", project, instance, "--"}, argv...)
	cmd := exec.Command("incus", args...)
	cmd.Env = append(os.Environ(), "INCUS_REMOTE=")
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("incus exec %s -- %v: %v: %s", instance, argv, err, errOut.String())
	}
	return out.String(), nil
}

// fetch asks url from inside the instance (busybox wget; its -T option
// crashes the static build, so `timeout` bounds it).
func fetch(t testing.TB, project, instance, url string) (string, error) {
	out, err := inside(t, project, instance, "timeout", "5", "wget", "-qO-", url)
	return strings.TrimSpace(out), err
}

func requireLAN(t *testing.T) {
	t.Helper()
	if os.Getenv("INCUS_FLEET_TESTBED_BRIDGE") == "" {
		t.Skip("the test bed has no LAN bridge (INCUS_FLEET_TESTBED_BRIDGE): run make testbed-up")
	}
}

// TestNamesAcrossMembers: from the client on node1, `web` and every
// `web-N` answer, from replicas on node2 and node3 as well.
func TestNamesAcrossMembers(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	requireLAN(t)
	const stack = "it-names"
	cleanup(t, stack)
	file := writeCompose(t, twoTier("v1", "start-first"))
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_files": []string{file}}).mustSucceed(t)
	where := placement(t, srv, stack)
	if where["client-1"] != "node1" {
		t.Fatalf("client not on node1: %v", where)
	}
	seen := map[string]bool{}
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("web-%d", i)
		got, err := fetch(t, stack, "client-1", "http://"+name+"/")
		if err != nil {
			t.Fatal(err)
		}
		if got != "v1 from "+name {
			t.Errorf("http://%s/ answered %q, want %q", name, got, "v1 from "+name)
		}
		seen[where[name]] = true
	}
	if !seen["node2"] || !seen["node3"] {
		t.Errorf("replicas answering by name ran on %v, want node2 and node3 among them", seen)
	}
	for _, url := range []string{"http://web/", "http://tasks.web/"} {
		got, err := fetch(t, stack, "client-1", url)
		if err != nil || !strings.HasPrefix(got, "v1 from web-") {
			t.Errorf("%s answered %q (%v), want a web replica", url, got, err)
		}
	}
	// Every running replica is listed under the service name (no VIP).
	hosts, err := inside(t, stack, "client-1", "cat", "/etc/hosts")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(hosts, " web tasks.web"); n != 3 {
		t.Errorf("/etc/hosts of client-1 lists web %d times, want 3:\n%s", n, hosts)
	}
	// extra_hosts share the one file, after the fleet's names (only
	// written, never contacted).
	if !strings.Contains(hosts, "# END incus-fleet names\n# extra_hosts\n192.0.2.10\tlegacy-db\n") {
		t.Errorf("/etc/hosts of client-1 lacks extra_hosts after the names:\n%s", hosts)
	}
}

// TestNamesFollowStartFirstUpdate: a client loop calls `web` every 100 ms
// across a start-first update of all three replicas and loses no request;
// once the apply returns, `web` serves the new version within 1 s.
func TestNamesFollowStartFirstUpdate(t *testing.T) {
	testbed(t)
	requireLAN(t)
	const stack = "it-names-update"
	cleanup(t, stack)
	file := writeCompose(t, twoTier("v1", "start-first"))
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_files": []string{file}}).mustSucceed(t)
	if got, err := fetch(t, stack, "client-1", "http://web/"); err != nil || !strings.HasPrefix(got, "v1 from") {
		t.Fatalf("before the update web answered %q (%v)", got, err)
	}

	// The loop runs inside the client, bounded (600 × 100 ms), and counts.
	loop := exec.Command("incus", "exec", "--project", stack, "client-1", "--", "sh", "-c",
		`ok=0; fail=0; i=0; while [ $i -lt 600 ] && [ ! -e /tmp/stop ]; do
			if timeout 2 wget -qO- http://web/ >/dev/null 2>&1; then ok=$((ok+1)); else fail=$((fail+1)); fi
			i=$((i+1)); sleep 0.1; done; echo "ok=$ok fail=$fail"`)
	var loopOut strings.Builder
	loop.Stdout = &loopOut
	if err := loop.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	file2 := writeCompose(t, twoTier("v2", "start-first"))
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_files": []string{file2}}).mustSucceed(t)
	returned := time.Now()
	var got string
	for {
		got, _ = fetch(t, stack, "client-1", "http://web/")
		if strings.HasPrefix(got, "v2 from") || time.Since(returned) > 5*time.Second {
			break
		}
	}
	took := time.Since(returned)
	if !strings.HasPrefix(got, "v2 from") || took > time.Second {
		t.Errorf("web answered %q %.2fs after the apply returned, want v2 within 1s", got, took.Seconds())
	}
	if _, err := inside(t, stack, "client-1", "touch", "/tmp/stop"); err != nil {
		t.Fatal(err)
	}
	if err := loop.Wait(); err != nil {
		t.Fatalf("client loop: %v", err)
	}
	res := strings.TrimSpace(loopOut.String())
	t.Logf("client loop across the update: %s; new version %.2fs after the apply returned", res, took.Seconds())
	var ok, fail int
	if _, err := fmt.Sscanf(res, "ok=%d fail=%d", &ok, &fail); err != nil || ok < 10 {
		t.Fatalf("client loop output %q", res)
	}
	if fail != 0 {
		t.Errorf("the client lost %d of %d requests to web across the update", fail, ok+fail)
	}
}

// TestNetworksIsolateNames: services on two Compose networks; one on only
// the first cannot resolve a service on only the second.
func TestNetworksIsolateNames(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	testbed(t)
	requireLAN(t)
	const stack = "it-names-nets"
	cleanup(t, stack)
	file := writeCompose(t, `services:
  front:
    image: busybox
    networks: [edge]
  api:
    image: busybox
    networks:
      edge:
      back:
        aliases: [service-api]
  db:
    image: busybox
    networks: [back]
networks:
  edge: {}
  back: {}
`)
	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_files": []string{file}}).mustSucceed(t)
	if !strings.Contains(strings.Join(r.Warnings, "\n"), "not isolated") {
		t.Errorf("no warning that two networks on one bridge are not isolated: %v", r.Warnings)
	}
	if got, err := fetch(t, stack, "front-1", "http://api/"); err != nil || got != "hello from api-1" {
		t.Errorf("front -> api: %q (%v)", got, err)
	}
	if got, err := fetch(t, stack, "db-1", "http://service-api/"); err != nil || got != "hello from api-1" {
		t.Errorf("db -> service-api (alias on back): %q (%v)", got, err)
	}
	if got, err := fetch(t, stack, "api-1", "http://db/"); err != nil || got != "hello from db-1" {
		t.Errorf("api -> db: %q (%v)", got, err)
	}
	for _, name := range []string{"db", "db-1", "tasks.db"} {
		if got, err := fetch(t, stack, "front-1", "http://"+name+"/"); err == nil {
			t.Errorf("front (edge only) resolved %s (back only) and got %q", name, got)
		}
	}
	if got, err := fetch(t, stack, "db-1", "http://front/"); err == nil {
		t.Errorf("db (back only) resolved front (edge only) and got %q", got)
	}
}

// TestNetworkBadInput: a missing network, a subnet conflict and an
// undeclared network fail before anything is created.
func TestNetworkBadInput(t *testing.T) {
	srv := testbed(t)
	requireLAN(t)
	cases := []struct{ name, yaml, code, want string }{
		{"missing", "services:\n  web:\n    image: busybox\n    networks: [lan]\nnetworks:\n  lan:\n    external: true\n    name: no-such-net\n",
			"not_found", `"no-such-net"`},
		{"undeclared", "services:\n  web:\n    image: busybox\n    networks: [nowhere]\n",
			"compose_invalid", "nowhere"},
		{"conflict", "services:\n  web:\n    image: busybox\n    networks: [a, b]\nnetworks:\n  a:\n    ipam:\n      config: [{subnet: 10.99.0.0/16}]\n  b:\n    ipam:\n      config: [{subnet: 10.99.1.0/24}]\n",
			"compose_invalid", "overlaps"},
	}
	for _, c := range cases {
		stack := "it-badnet-" + c.name
		cleanup(t, stack)
		r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": c.yaml})
		if r.Error == nil || r.Error.Code != c.code || !strings.Contains(r.Error.Message, c.want) {
			t.Errorf("%s: got %s, want %s naming %s", c.name, r.Raw, c.code, c.want)
		}
		if projectExists(t, srv, stack) {
			t.Errorf("%s: project %s was created before the error", c.name, stack)
		}
	}
}

// TestNamesDropLostMember: a member's incusd is killed (its containers keep
// running, unreachable through Incus); once the watch has re-created its
// replica elsewhere, the client's names no longer point at the lost one.
func TestNamesDropLostMember(t *testing.T) {
	srv := testbed(t)
	requireLAN(t)
	const stack = "it-names-lost"
	setServerConfig(t, srv, "cluster.offline_threshold", "11")
	prepareSpare(t, srv, stack)
	joinSpare(t)
	file := writeCompose(t, strings.Replace(twoTier("v1", "start-first"), "replicas: 3", "replicas: 4", 1))
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_files": []string{file}}).mustSucceed(t)
	before := placement(t, srv, stack)
	lost := ""
	for inst, member := range before {
		if member == spareName {
			lost = inst
		}
	}
	if lost == "" {
		t.Fatalf("no replica on %s: %v", spareName, before)
	}
	hosts, err := inside(t, stack, "client-1", "cat", "/etc/hosts")
	if err != nil || !strings.Contains(hosts, "\t"+lost+" web") {
		t.Fatalf("client's names lack %s before the loss (%v):\n%s", lost, err, hosts)
	}
	w := startWatch(t, stack, file)
	if err := testbedScript(t, "member.sh", "kill", spareName); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "lost replica re-created and names updated", func() (bool, string) {
		got := instancesOn(t, srv, stack)
		n := 0
		for inst, member := range got {
			if member != spareName && strings.HasPrefix(inst, "web-") {
				n++
			}
		}
		hosts, _ = inside(t, stack, "client-1", "cat", "/etc/hosts")
		return n == 4 && !strings.Contains(hosts, "\t"+lost+" ") && strings.Count(hosts, " web tasks.web") == 4, fmt.Sprintf("web running %v\nhosts:\n%s\n%s", got, hosts, w.log())
	})
	if c := strings.Count(hosts, " web tasks.web"); c != 4 {
		t.Errorf("client's names list web %d times after the re-creation, want 4:\n%s", c, hosts)
	}
	for i := 0; i < 8; i++ {
		if got, err := fetch(t, stack, "client-1", "http://web/"); err != nil || !strings.HasPrefix(got, "v1 from web-") {
			t.Errorf("web after the loss: %q (%v)", got, err)
		}
	}
	w.stop(t)
}
