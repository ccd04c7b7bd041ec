package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// `incus-fleet stack watch` against the real cluster, run as a process the
// way the systemd unit runs it, and stopped with SIGTERM.

// TestWatchFollowsJoiningMember: with the watch running and nobody calling
// stack.present, a member that joins gets the global service's instance
// within seconds.
func TestWatchFollowsJoiningMember(t *testing.T) {
	srv := testbed(t)
	const stack = "it-watch-join"
	prepareSpare(t, srv, stack)
	file := writeCompose(t, "services:\n  agent:\n    image: busybox\n    deploy:\n      mode: global\n")
	w := startWatch(t, stack, file)
	waitFor(t, 20*time.Second, "first reconcile", func() (bool, string) {
		got := instancesOn(t, srv, stack)
		return len(got) == 3, fmt.Sprintf("agents %v\n%s", got, w.log())
	})

	joinSpare(t)
	took := waitFor(t, 20*time.Second, "agent on the new member", func() (bool, string) {
		got := instancesOn(t, srv, stack)
		return len(got) == 4 && perMember(got)[spareName] == 1, fmt.Sprintf("agents %v\n%s", got, w.log())
	})
	t.Logf("the watch placed the joining member's agent %.1fs after the join", took.Seconds())
	w.stop(t)
	log := w.log()
	t.Logf("watch log:\n%s", log)
	for _, want := range []string{"reconcile #1 (start)", "created 1, kept 3", "stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("watch log lacks %q:\n%s", want, log)
		}
	}
	// The joining member announces itself; the relayed event and the
	// member poll race, and either may trigger the reconcile.
	if !strings.Contains(log, "cluster-member-added "+spareName) && !strings.Contains(log, "member "+spareName+" appeared") {
		t.Errorf("watch log does not show the join as the trigger:\n%s", log)
	}
}

// TestWatchRecreatesLostReplicas: a member dies (daemon, containers and
// all); once Incus marks it offline, which no event announces, the watch's
// member poll notices and the replica it held is re-created elsewhere,
// under another name, since Incus keeps the lost one's record.
func TestWatchRecreatesLostReplicas(t *testing.T) {
	srv := testbed(t)
	const stack = "it-watch-lost"
	// Incus declares a silent member offline after this many seconds
	// (default 20; must be above 10).
	setServerConfig(t, srv, "cluster.offline_threshold", "11")
	prepareSpare(t, srv, stack)
	joinSpare(t)
	file := writeCompose(t, "services:\n  web:\n    image: busybox\n    deploy:\n      replicas: 4\n")
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_files": []string{file}}).mustSucceed(t)
	before := placement(t, srv, stack)
	if perMember(before)[spareName] != 1 {
		t.Fatalf("want one replica on each of 4 members: %v", before)
	}
	w := startWatch(t, stack, file)
	// Crash only after the start reconcile: a crash during it is absorbed
	// by that reconcile, and this test is about the member poll noticing.
	waitFor(t, 30*time.Second, "the start reconcile", func() (bool, string) {
		return strings.Contains(w.log(), "reconcile #1 (start)"), w.log()
	})

	crashed := time.Now()
	if err := testbedScript(t, "member.sh", "crash", spareName); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 45*time.Second, "lost replica re-created", func() (bool, string) {
		got := instancesOn(t, srv, stack)
		n := 0
		for _, member := range got {
			if member != spareName {
				n++
			}
		}
		return n == 4, fmt.Sprintf("running %v\n%s", got, w.log())
	})
	t.Logf("replica re-created %.1fs after the crash (offline_threshold 11s)", time.Since(crashed).Seconds())
	w.stop(t)
	if log := w.log(); !strings.Contains(log, "member "+spareName+" Online -> Offline") || !strings.Contains(log, "created 1") {
		t.Errorf("watch log does not show the member loss and the re-creation:\n%s", log)
	}
}

// writeCompose writes a compose file for a watch to read.
func writeCompose(t *testing.T, yaml string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "compose.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// setServerConfig sets a cluster-wide server key and restores it at the end.
func setServerConfig(t *testing.T, srv *bedClient, key, value string) {
	t.Helper()
	update := func(v string, had bool) error {
		s, etag, err := srv.GetServer()
		if err != nil {
			return err
		}
		put := s.Writable()
		if had {
			put.Config[key] = v
		} else {
			delete(put.Config, key)
		}
		return srv.UpdateServer(put, etag)
	}
	s, _, err := srv.GetServer()
	if err != nil {
		t.Fatal(err)
	}
	old, had := s.Config[key]
	if err := update(value, true); err != nil {
		t.Fatalf("set %s: %v", key, err)
	}
	t.Cleanup(func() {
		if err := update(fmt.Sprint(old), had); err != nil {
			t.Errorf("restore %s: %v", key, err)
		}
	})
}
