package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// realAppCrashOverride keeps the example's proxy and redis on node3 (never
// on the spare, which the test crashes) and the api off node3, so its three
// replicas go to node1, node2 and the spare: one api replica is pinned onto
// the spare without pinning the others, and node1 and node2 can take the
// lost one.
const realAppCrashOverride = `services:
  proxy:
    deploy:
      placement:
        constraints: [node.hostname == node3]
  redis:
    deploy:
      placement:
        constraints: [node.hostname == node3]
  api:
    deploy:
      placement:
        constraints: [node.hostname != node3]
`

// TestRealAppMemberCrash: the example application runs with `stack watch`;
// the member running one api replica (a spare, so the core members are
// never crashed) dies, daemon, containers and all. Requests from the
// client through the proxy fail at most until offline_threshold + 5 s after
// the crash, the lost replica is re-created on another member, and when the
// member returns nothing is lost: the counter goes on from where it was and
// one of the slot's two copies is deleted (3 api instances, 3 names).
// Not parallel: a member crash disturbs every test running meanwhile.
func TestRealAppMemberCrash(t *testing.T) {
	srv := testbed(t)
	requireLAN(t)
	requireImage(t, srv, realAppImage)
	const threshold = 11
	example, err := filepath.Abs(filepath.Join(realAppDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(realAppDir, "secrets", "api_key.txt"))
	if err != nil {
		t.Fatal(err)
	}
	key = []byte(strings.TrimSpace(string(key)))
	setServerConfig(t, srv, "cluster.offline_threshold", fmt.Sprint(threshold))
	prepareSpare(t, srv, realAppStack)
	removeWithVolumes(t, realAppStack) // runs before prepareSpare's cleanup
	joinSpare(t)
	files := []string{example, realAppOverride(t, "1", "1"), writeCompose(t, realAppCrashOverride)}
	start := time.Now()
	call(t, "stack.present", false, map[string]any{"name": realAppStack, "compose_files": files}).mustSucceed(t)
	t.Logf("apply: %.1fs", time.Since(start).Seconds())
	where := placement(t, srv, realAppStack)
	lost := ""
	for inst, member := range where {
		if strings.HasPrefix(inst, "api-") && member == spareName {
			lost = inst
		}
	}
	if lost == "" || where["redis-1"] == spareName || where["proxy-1"] == spareName {
		t.Fatalf("want one api replica on %s and neither proxy nor redis there: %v", spareName, where)
	}
	t.Logf("placement: %v; %s is on %s", where, lost, spareName)
	waitFor(t, 90*time.Second, "a first answer through the proxy", func() (bool, string) {
		out, err := inside(t, realAppStack, "client-1", "python3", "/usr/local/bin/client.py", "once", "http://proxy/")
		return err == nil, lastLines(out, 2)
	})

	args := []string{}
	for _, f := range files[1:] {
		args = append(args, "-f", f)
	}
	w := startWatch(t, realAppStack, files[0], args...)
	// Crash only after the start reconcile, so what follows is the
	// watch's reaction to the loss.
	waitFor(t, 90*time.Second, "the watch's start reconcile", func() (bool, string) {
		return strings.Contains(w.log(), "reconcile #1"), w.log()
	})

	loop := startLoop(t, "member-crash")
	waitFor(t, 60*time.Second, "the client loop reaching "+lost, func() (bool, string) {
		out, _ := inside(t, realAppStack, "client-1", "cat", loop.out)
		return strings.Contains(out, `"host": "`+lost+`"`), lastLines(out, 3)
	})
	crashed := time.Now()
	if err := testbedScript(t, "member.sh", "crash", spareName); err != nil {
		t.Fatal(err)
	}
	apiElsewhere := func() map[string]string {
		got := map[string]string{}
		for inst, member := range instancesOn(t, srv, realAppStack) {
			if strings.HasPrefix(inst, "api-") && member != spareName {
				got[inst] = member
			}
		}
		return got
	}
	recreated := waitFor(t, (threshold+60)*time.Second, "the lost api replica re-created on another member", func() (bool, string) {
		got := apiElsewhere()
		return len(got) == 3, fmt.Sprintf("api running off %s: %v\n%s", spareName, got, w.log())
	})
	t.Logf("api replica re-created %.1fs after the crash (offline threshold %ds): %v", recreated.Seconds(), threshold, apiElsewhere())
	// Requests keep going for offline_threshold + 5 s after the crash (and
	// 20 more after the re-creation), so a late failure would show.
	if rest := time.Duration(threshold+5)*time.Second - time.Since(crashed); rest > 0 {
		time.Sleep(rest)
	}
	r := loop.stop(t, loop.lines(t), 20)
	lastFail := r.lastFail.Sub(crashed)
	last := "none failed"
	if r.failed > 0 {
		last = fmt.Sprintf("last failure %.1fs after the crash", lastFail.Seconds())
	}
	t.Logf("member crash: %d requests, %d failed %q (%s), longest between two requests %.1fs; answers after the re-creation from %v",
		r.sent, r.failed, r.failures, last, r.maxGap.Seconds(), r.hostsAfter)
	checkAnswers(t, "during the member crash", key, r.answers)
	if r.failed > 0 && lastFail > time.Duration(threshold+5)*time.Second {
		t.Errorf("requests still failed %.1fs after the crash, want none after offline_threshold + 5 s (%ds): %q", lastFail.Seconds(), threshold+5, r.failures)
	}
	if r.hostsAfter[lost] || len(r.hostsAfter) == 0 {
		t.Errorf("after the re-creation answers came from %v, want replicas other than %s", r.hostsAfter, lost)
	}
	before := r.answers[len(r.answers)-1].Count

	// The member returns: Incus starts its instances again, among them the
	// lost replica; the watch deletes that extra copy.
	loop = startLoop(t, "member-return")
	if err := testbedScript(t, "member.sh", "start", spareName); err != nil {
		t.Fatal(err)
	}
	returned := time.Now()
	waitFor(t, 60*time.Second, spareName+" online", func() (bool, string) {
		s := clusterMemberStatus(t, spareName)
		return s == "Online", s
	})
	// One of the two copies of the slot goes: api-3 if it is not running
	// yet when the watch plans, else (a tie) the copy made meanwhile.
	// Either way, three api instances, all running, one per slot.
	took := waitFor(t, 90*time.Second, "one copy of "+lost+" deleted", func() (bool, string) {
		insts, err := srv.UseProject(realAppStack).GetInstances()
		if err != nil {
			return false, err.Error()
		}
		api, running, slots := []string{}, 0, map[string]bool{}
		for _, in := range insts {
			if strings.HasPrefix(in.Name, "api-") {
				api = append(api, in.Name+"@"+in.Location+"/"+in.Status)
				// api-3 and its copy api-3-b (or -c, ...) are one slot.
				slots[strings.Join(strings.SplitN(in.Name, "-", 3)[:2], "-")] = true
				if in.Status == "Running" {
					running++
				}
			}
		}
		return len(api) == 3 && running == 3 && len(slots) == 3, fmt.Sprintf("api instances %v\n%s", api, w.log())
	})
	t.Logf("extra copy deleted %.1fs after %s was started again: %v", took.Seconds(), spareName, placement(t, srv, realAppStack))
	var hosts string
	waitFor(t, 30*time.Second, "3 api names in the proxy", func() (bool, string) {
		hosts, _ = inside(t, realAppStack, "proxy-1", "cat", "/etc/hosts")
		return strings.Count(hosts, " api tasks.api") == 3 && strings.Contains(hosts, "# END incus-fleet names"), hosts
	})
	r = loop.stop(t, loop.lines(t), 20)
	t.Logf("member return: %d requests, %d failed %q in %.1fs, longest between two requests %.1fs; answers after it from %v",
		r.sent, r.failed, r.failures, time.Since(returned).Seconds(), r.maxGap.Seconds(), r.hostsAfter)
	checkAnswers(t, "while the member returned", key, r.answers)
	if n := len(r.answers); n == 0 || r.answers[0].Count <= before {
		t.Errorf("the counter did not go on from %d after the member returned: %+v", before, r.answers)
	}
	if r.failed != 0 {
		t.Errorf("while the member returned %d of %d requests failed: %q", r.failed, r.sent, r.failures)
	}
	if len(r.hostsAfter) != 3 {
		t.Errorf("after the member returned answers came from %v, want 3 replicas", r.hostsAfter)
	}
	w.stop(t)
	t.Logf("watch log:\n%s", w.log())
}
