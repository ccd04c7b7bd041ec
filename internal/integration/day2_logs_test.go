package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// composeTalker is a command: service whose main process writes one line
// to stdout and one to stderr, then sleeps.
func composeTalker(n int) string {
	return fmt.Sprintf(`services:
  web:
    image: busybox
    command: ["sh", "-c", "echo out from $$(hostname); echo err from $$(hostname) >&2; exec sleep 100000"]
    deploy:
      replicas: %d
`, n)
}

// TestStackLogs: the stdout and stderr of a command: service's replicas on
// three members come back through stack logs, each prefixed SERVICE.SLOT;
// --tail and targets select.
func TestStackLogs(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-logs"
	cleanup(t, stack)
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": composeTalker(3)}).mustSucceed(t)
	if got := perMember(placement(t, srv, stack)); len(got) != 3 {
		t.Fatalf("want one replica per member, got %v", got)
	}
	want := []string{"web.1 | out from web-1", "web.1 | err from web-1", "web.2 | out from web-2", "web.2 | err from web-2",
		"web.3 | out from web-3", "web.3 | err from web-3"}
	var out string
	waitUntil(t, 30*time.Second, "every replica's lines", func() bool {
		_, out = cliOut(t, "stack", "logs", "-n", stack)
		return containsAll(out, want)
	})
	// Reading takes nothing away: a second reader sees the same lines
	// (Incus's console buffer is cleared by each read; the journal is not).
	if _, again := cliOut(t, "stack", "logs", "-n", stack); !containsAll(again, want) {
		t.Errorf("second read lost lines:\n%s", again)
	}
	// A stopped replica's lines are still there, once: Incus answers a
	// stopped container's console read with its whole console.log, every
	// time, so it must not be drained into the journal again.
	if err := srv.UseProject(stack).SetInstanceState("web-3", "stop"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, again := cliOut(t, "stack", "logs", "-n", stack, "web.3"); strings.Count(again, "out from web-3") != 1 {
			t.Errorf("read %d of stopped web.3: want its line once:\n%s", i+1, again)
		}
	}
	// --tail 1 per replica, and a target selects one replica.
	_, out = cliOut(t, "stack", "logs", "-n", stack, "--tail", "1", "web.2")
	if strings.TrimSpace(out) != "web.2 | err from web-2" {
		t.Errorf("logs --tail 1 web.2:\n%s", out)
	}
	// The protocol action: every line with its replica and member.
	r := call(t, "stack.logs", false, map[string]any{"name": stack, "targets": []string{"web"}}).mustSucceed(t)
	var body struct {
		Lines []struct{ Replica, Member, Line, Time string } `json:"lines"`
	}
	_ = json.Unmarshal(r.Raw, &body)
	members := map[string]bool{}
	for i, l := range body.Lines {
		members[l.Member] = true
		if i > 0 && l.Time < body.Lines[i-1].Time {
			t.Errorf("lines not in time order: %+v before %+v", body.Lines[i-1], l)
		}
	}
	if len(body.Lines) < 6 || len(members) != 3 {
		t.Errorf("stack.logs: %d lines from members %v: %s", len(body.Lines), members, r.Raw)
	}
}

// TestStackLogsFollow: --follow shows lines written later and picks up a
// replica a scale-up creates. It logs the lag between a line being written
// and being shown (measured, not asserted).
func TestStackLogsFollow(t *testing.T) {
	testbed(t)
	const stack = "it-logs-follow"
	cleanup(t, stack)
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": composeTalker(2)}).mustSucceed(t)

	cmd := exec.Command(binary(t), "stack", "logs", "-n", stack, "--follow", "--timestamps")
	cmd.Env = os.Environ()
	var mu sync.Mutex
	var buf bytes.Buffer
	cmd.Stdout = lockedWriter{&mu, &buf}
	cmd.Stderr = lockedWriter{&mu, &buf}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
	}()
	output := func() string { mu.Lock(); defer mu.Unlock(); return buf.String() }
	waitUntil(t, 30*time.Second, "the history of both replicas", func() bool {
		return containsAll(output(), []string{"out from web-1", "err from web-2"})
	})

	// Lines written into the main process's stdout appear, stamped. The
	// lag is bounded from both sides: from the end of the exec that wrote
	// the line (lower) and from its start (upper), checked every 10 ms.
	var low, high []time.Duration
	for i := 0; i < 8; i++ {
		marker := fmt.Sprintf("marker-%d", i)
		start := time.Now()
		call(t, "stack.exec", false, map[string]any{"name": stack, "target": "web.2", "command": []string{"sh", "-c", "echo " + marker + " > /proc/1/fd/1"}}).mustSucceed(t)
		written := time.Now()
		deadline := written.Add(30 * time.Second)
		for !strings.Contains(output(), marker) {
			if time.Now().After(deadline) {
				t.Fatalf("%s not shown after 30s:\n%s", marker, output())
			}
			time.Sleep(10 * time.Millisecond)
		}
		low, high = append(low, time.Since(written)), append(high, time.Since(start))
	}
	for _, l := range [][]time.Duration{low, high} {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	}
	t.Logf("--follow lag, 8 samples sorted, from the write's end: %v; from its start: %v", low, high)
	for _, line := range strings.Split(output(), "\n") {
		if strings.Contains(line, "marker-0") {
			f := strings.Fields(line) // web.2 | TIME marker-0
			if len(f) != 4 || f[0] != "web.2" {
				t.Errorf("followed line %q, want \"web.2 | TIME marker-0\"", line)
			} else if _, err := time.Parse(time.RFC3339Nano, f[2]); err != nil {
				t.Errorf("followed line %q has no time: %v", line, err)
			}
		}
	}

	// A scale-up's new replica is picked up with its whole log.
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": composeTalker(3)}).mustSucceed(t)
	waitUntil(t, 60*time.Second, "the new replica web.3", func() bool {
		return containsAll(output(), []string{"out from web-3", "err from web-3"})
	})
	if !strings.Contains(output(), "web.3 | ") {
		t.Errorf("web.3's lines are not prefixed:\n%s", output())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// waitUntil polls cond every 200 ms until it holds, or fails the test
// after limit (a bound on waiting, not a timed assertion).
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %s", what, limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
