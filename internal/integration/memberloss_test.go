package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/incus"
)

// TestMemberLossDuringRollingUpdate: a member dies (daemon, containers and
// all) in the middle of a start-first rolling update. The update ends on
// its own (done, or paused on the lost slot), the service never drops below
// the replicas the surviving members hold, and the next stack.present, with
// the member gone for good, completes: every slot runs the new spec on a
// live member.
func TestMemberLossDuringRollingUpdate(t *testing.T) {
	srv := testbed(t)
	const stack = "it-member-loss"
	setServerConfig(t, srv, "cluster.offline_threshold", "11")
	prepareSpare(t, srv, stack)
	joinSpare(t)
	compose := func(v int) string {
		return fmt.Sprintf(`
services:
  web:
    image: busybox
    environment: {V: "%d"}
    deploy:
      replicas: 4
      update_config: {parallelism: 1, delay: 1s, order: start-first, monitor: 500ms}
`, v)
	}
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose(1)}).mustSucceed(t)
	if got := perMember(placement(t, srv, stack)); got[spareName] != 1 || len(got) != 4 {
		t.Fatalf("want one replica per member: %v", got)
	}

	// Watch the running replicas on the surviving members while updating.
	var minAlive atomic.Int64
	minAlive.Store(99)
	stopWatching := make(chan struct{})
	watched := make(chan struct{})
	// Stopped on every way out: left running after a failure, its requests
	// counted in the next test's request figures (seen failing
	// TestNoopRequestsAreConstant with 9 against 8).
	var stop sync.Once
	stopWatcher := func() { stop.Do(func() { close(stopWatching); <-watched }) }
	t.Cleanup(stopWatcher)
	go func() {
		defer close(watched)
		for {
			select {
			case <-stopWatching:
				return
			case <-time.After(150 * time.Millisecond):
			}
			insts, err := srv.UseProject(stack).GetInstances()
			if err != nil {
				continue
			}
			alive := int64(0)
			for _, in := range insts {
				if in.Location != spareName && in.Status == "Running" {
					alive++
				}
			}
			if alive < minAlive.Load() {
				minAlive.Store(alive)
			}
		}
	}()

	req, _ := json.Marshal(map[string]any{"version": 1, "action": "stack.present",
		"params": map[string]any{"name": stack, "compose_yaml": compose(2)}})
	update := exec.Command(binary(t), "call")
	update.Stdin = bytes.NewReader(req)
	var out bytes.Buffer
	update.Stdout, update.Stderr = &out, &out
	if err := update.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // the first slot is through
	if err := testbedScript(t, "member.sh", "crash", spareName); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- update.Wait() }()
	select {
	case err := <-ended:
		var resp struct {
			Error *struct{ Code, Message string } `json:"error"`
		}
		if i := bytes.IndexByte(out.Bytes(), '{'); i >= 0 {
			_ = json.Unmarshal(out.Bytes()[i:], &resp)
		}
		if resp.Error != nil {
			t.Logf("the update ended (%v) after the member loss: %s: %s", err, resp.Error.Code, resp.Error.Message)
		} else {
			t.Logf("the update ended (%v) after the member loss:\n%s", err, lastLines(out.String(), 6))
		}
	case <-time.After(150 * time.Second):
		_ = update.Process.Kill()
		t.Fatalf("the update hung after the member loss:\n%s", out.String())
	}
	stopWatcher()
	if minAlive.Load() < 3 {
		t.Errorf("running replicas on the surviving members dropped to %d during the update, want never below 3", minAlive.Load())
	}

	// The member stays dead; once Incus calls it offline, the next run
	// re-creates its slot elsewhere and finishes the update.
	waitFor(t, 40*time.Second, "the lost member offline", func() (bool, string) {
		m, _, err := srv.GetClusterMember(spareName)
		return err == nil && m.Status == "Offline", fmt.Sprint(m)
	})
	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose(2)}).mustSucceed(t)
	live := map[string]string{}
	for _, in := range mustInstances(t, srv, stack) {
		if in.Location != spareName {
			if in.Status != "Running" {
				t.Errorf("%s is %s", in.Name, in.Status)
			}
			live[in.Config["user.fleet.slot"]] = in.Config["user.fleet.hash"]
		}
	}
	if len(live) != 4 {
		t.Fatalf("after the recovery run, live slots %v, want 4: %s", live, r.Raw)
	}
	hashes := map[string]bool{}
	for _, h := range live {
		hashes[h] = true
	}
	if len(hashes) != 1 {
		t.Errorf("live slots run %d specs after the recovery run, want the new one only: %v", len(hashes), live)
	}
}

func mustInstances(t *testing.T, srv *bedClient, project string) []incus.Instance {
	t.Helper()
	insts, err := srv.UseProject(project).GetInstances()
	if err != nil {
		t.Fatal(err)
	}
	return insts
}

func lastLines(s string, n int) string {
	lines := bytes.Split([]byte(s), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
