package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// namesAnswer checks, from client-1, that `web`, `tasks.web` and every
// running web replica by its instance name (web-N, or web-N-b after a
// start-first update) answer with the given greeting, and that client-1's
// names list every replica of web once.
func namesAnswer(t *testing.T, srv *bedClient, stack, greeting string, replicas int) {
	t.Helper()
	hosts, err := inside(t, stack, "client-1", "cat", "/etc/hosts")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(hosts, " web tasks.web"); n != replicas {
		t.Errorf("%s: client-1's names list web %d times, want %d:\n%s", greeting, n, replicas, hosts)
	}
	urls := []string{"http://web/", "http://tasks.web/"}
	for inst := range placement(t, srv, stack) {
		if strings.HasPrefix(inst, "web-") {
			urls = append(urls, "http://"+inst+"/")
		}
	}
	if len(urls) != 2+replicas {
		t.Errorf("%s: %d web replicas run, want %d", greeting, len(urls)-2, replicas)
	}
	for _, url := range urls {
		got, err := fetch(t, stack, "client-1", url)
		if err != nil || !strings.HasPrefix(got, greeting+" from web-") {
			t.Errorf("%s answered %q (%v), want %q from a web replica", url, got, err, greeting)
		}
	}
}

// TestNamesFollowBothUpdateOrders: a stop-first update (Compose's default
// order) re-creates every replica under its old name; the names must
// follow it as they follow a start-first update. Before the fix the names
// of the re-created replicas stayed marked as leaving, and client-1 could
// resolve neither `web` nor `web-1`. A no-op apply afterwards writes no
// file.
func TestNamesFollowBothUpdateOrders(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	requireLAN(t)
	const stack = "it-names-orders"
	cleanup(t, stack)
	apply := func(greeting, order string) {
		t.Helper()
		file := writeCompose(t, twoTier(greeting, order))
		call(t, "stack.present", false, map[string]any{"name": stack, "compose_files": []string{file}}).mustSucceed(t)
	}
	apply("v1", "stop-first")
	namesAnswer(t, srv, stack, "v1", 3)
	apply("v2", "stop-first")
	namesAnswer(t, srv, stack, "v2", 3)
	apply("v3", "start-first")
	namesAnswer(t, srv, stack, "v3", 3)

	// A no-op apply rewrites no hosts file: each write renames a new file
	// over /etc/hosts, so its inode would change.
	inode := func(inst string) string {
		out, err := inside(t, stack, inst, "stat", "-c", "%i", "/etc/hosts")
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}
	before := map[string]string{}
	for inst := range placement(t, srv, stack) {
		before[inst] = inode(inst)
	}
	apply("v3", "start-first")
	for inst, ino := range before {
		if got := inode(inst); got != ino {
			t.Errorf("a no-op apply rewrote /etc/hosts of %s (inode %s -> %s)", inst, ino, got)
		}
	}
}

// TestNamesDropLostMemberWithoutReplacement: a global service has one
// replica per member, so losing a member plans no new instance (only keep
// steps); the watch must still take the lost replica out of the names of
// the survivors. Before the fix nothing rewrote them: client-1 kept the
// dead address for good.
func TestNamesDropLostMemberWithoutReplacement(t *testing.T) {
	srv := testbed(t)
	requireLAN(t)
	const stack = "it-names-global"
	const threshold = 11
	setServerConfig(t, srv, "cluster.offline_threshold", fmt.Sprint(threshold))
	prepareSpare(t, srv, stack)
	joinSpare(t)
	file := writeCompose(t, `services:
  web:
    image: busybox
    environment: {GREETING: v1}
    deploy: {mode: global}
  client:
    image: busybox
    deploy:
      placement:
        constraints: [node.hostname == node1]
`)
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_files": []string{file}}).mustSucceed(t)
	lost := ""
	for inst, member := range placement(t, srv, stack) {
		if member == spareName && strings.HasPrefix(inst, "web") {
			lost = inst
		}
	}
	if lost == "" {
		t.Fatalf("no web replica on %s: %v", spareName, placement(t, srv, stack))
	}
	hosts, err := inside(t, stack, "client-1", "cat", "/etc/hosts")
	if err != nil || !strings.Contains(hosts, "\t"+lost+" web") {
		t.Fatalf("client's names lack %s before the loss (%v):\n%s", lost, err, hosts)
	}
	w := startWatch(t, stack, file)
	t.Cleanup(func() { w.stop(t) })
	// The watch's first reconcile is done before the loss, so what follows
	// is its reaction to the loss alone.
	waitFor(t, 60*time.Second, "the watch's start reconcile", func() (bool, string) {
		return strings.Contains(w.log(), "reconcile #1"), w.log()
	})
	killed := time.Now()
	if err := testbedScript(t, "member.sh", "kill", spareName); err != nil {
		t.Fatal(err)
	}
	waitFor(t, (threshold+30)*time.Second, "the lost replica out of client-1's names", func() (bool, string) {
		// Read whole (an exec refused while the cluster notices the loss
		// reads nothing, which is not a file without the replica).
		out, err := inside(t, stack, "client-1", "cat", "/etc/hosts")
		if err != nil || !strings.Contains(out, "# END incus-fleet names") {
			return false, fmt.Sprintf("read: %v\n%s", err, out)
		}
		hosts = out
		return !strings.Contains(hosts, "\t"+lost+" "), fmt.Sprintf("hosts:\n%s\n%s", hosts, w.log())
	})
	t.Logf("the lost replica left the names %.1fs after the kill (offline threshold %ds)\n%s", time.Since(killed).Seconds(), threshold, w.log())
	if c := strings.Count(hosts, " web tasks.web"); c != 3 {
		t.Errorf("client's names list web %d times after the loss, want the 3 survivors:\n%s", c, hosts)
	}
	for i := 0; i < 6; i++ {
		if got, err := fetch(t, stack, "client-1", "http://web/"); err != nil || !strings.HasPrefix(got, "v1 from web") {
			t.Errorf("web after the loss: %q (%v)", got, err)
		}
	}
}
