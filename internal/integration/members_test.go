package integration

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Helpers for placement tests that change the cluster itself: member
// labels, a spare member that joins (and leaves), and `stack watch` run as
// a process. Every change is undone in t.Cleanup, even when a test fails,
// so the cluster is left with exactly its three members and their labels.

// spareName is the extra member these tests join; a name of its own so it
// never meets another test's spare.
const spareName = "place4"

// coreMembers returns the cluster's member names, sorted.
func coreMembers(t *testing.T, srv *bedClient) []string {
	t.Helper()
	names, err := srv.GetClusterMemberNames()
	if err != nil {
		t.Fatalf("list members: %v", err)
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, filepath.Base(n)) // older servers return URLs
	}
	slices.Sort(out)
	return out
}

// setLabels sets member labels (user.<key>; "" removes one) straight
// through the Incus client, and restores each member's config at the end.
func setLabels(t *testing.T, srv *bedClient, labels map[string]map[string]string) {
	t.Helper()
	for member, kv := range labels {
		m, etag, err := srv.GetClusterMember(member)
		if err != nil {
			t.Fatalf("read member %s: %v", member, err)
		}
		before := m.Writable()
		put := m.Writable()
		put.Config = map[string]string{}
		for k, v := range before.Config {
			put.Config[k] = v
		}
		for k, v := range kv {
			if v == "" {
				delete(put.Config, "user."+k)
			} else {
				put.Config["user."+k] = v
			}
		}
		if err := srv.UpdateClusterMember(member, put, etag); err != nil {
			t.Fatalf("label member %s: %v", member, err)
		}
		t.Cleanup(func() {
			cur, etag, err := srv.GetClusterMember(member)
			if err != nil {
				t.Errorf("restore labels of %s: %v", member, err)
				return
			}
			put := cur.Writable()
			put.Config = before.Config
			if err := srv.UpdateClusterMember(member, put, etag); err != nil {
				t.Errorf("restore labels of %s: %v", member, err)
			}
		})
	}
}

// testbedScript runs a test bed script (spare.sh, member.sh) on this test
// bed's directory.
func testbedScript(t *testing.T, script string, args ...string) error {
	t.Helper()
	cmd := exec.Command("bash", append([]string{filepath.Join("..", "..", "testdata", "testbed", script)}, args...)...)
	cmd.Env = append(os.Environ(), "TESTBED_DIR="+os.Getenv("INCUS_FLEET_TESTBED"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", script, strings.Join(args, " "), err, out)
	}
	return nil
}

// prepareSpare makes sure no spare is left from an earlier run and
// registers the cleanup that, after everything registered later (a watch
// is stopped first), removes the stacks, then the spare: gracefully if it
// can, by force if it must (offline, or still holding instances), then
// its daemon and directory.
func prepareSpare(t *testing.T, srv *bedClient, stacks ...string) {
	t.Helper()
	removeSpare(t, srv)
	t.Cleanup(func() {
		for _, s := range stacks {
			call(t, "stack.absent", false, map[string]any{"name": s})
		}
		removeSpare(t, srv)
		// Instances Incus could not delete on an offline spare went with
		// it; now their projects can go too.
		for _, s := range stacks {
			call(t, "stack.absent", false, map[string]any{"name": s})
		}
		if got := coreMembers(t, srv); len(got) != 3 {
			t.Errorf("cluster left with members %v, want 3", got)
		}
	})
}

// joinSpare starts the spare daemon and joins it as a 4th member
// (prepareSpare first).
func joinSpare(t *testing.T) {
	t.Helper()
	port := freePort(t)
	if err := testbedScript(t, "spare.sh", "start", spareName, fmt.Sprint(port)); err != nil {
		t.Fatal(err)
	}
	// Right after another member left, Incus may briefly report "no online
	// cluster members" to a joiner until heartbeats settle: retry a little.
	err := testbedScript(t, "spare.sh", "join", spareName, fmt.Sprint(port))
	for attempt := 1; err != nil && attempt < 4; attempt++ {
		t.Logf("join attempt %d failed (%v); retrying", attempt, err)
		time.Sleep(3 * time.Second)
		err = testbedScript(t, "spare.sh", "join", spareName, fmt.Sprint(port))
	}
	if err != nil {
		t.Fatal(err)
	}
}

func removeSpare(t *testing.T, srv *bedClient) {
	t.Helper()
	if slices.Contains(coreMembers(t, srv), spareName) {
		if err := srv.DeleteClusterMember(spareName, false); err != nil {
			if err := srv.DeleteClusterMember(spareName, true); err != nil {
				t.Errorf("remove member %s: %v", spareName, err)
			}
		}
	}
	if err := testbedScript(t, "spare.sh", "remove", spareName); err != nil {
		t.Error(err)
	}
}

// freePort asks the kernel for a free loopback port for the spare's API.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitFor polls cond until it holds or timeout passes; the last message
// explains the failure.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ok, msg := cond()
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s: not within %s: %s", what, timeout, msg)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// instancesOn lists a project's instances as name → member, without
// insisting that they run (placement() does).
func instancesOn(t *testing.T, srv *bedClient, project string) map[string]string {
	t.Helper()
	insts, err := srv.UseProject(project).GetInstances()
	if err != nil {
		return nil // the project may not exist yet
	}
	out := map[string]string{}
	for _, in := range insts {
		if in.Status == "Running" {
			out[in.Name] = in.Location
		}
	}
	return out
}

// watchProcess is `incus-fleet stack watch` running as its own process,
// as systemd runs it.
type watchProcess struct {
	cmd     *exec.Cmd
	mu      sync.Mutex
	stderr  bytes.Buffer
	done    chan error
	stopped bool
}

func (w *watchProcess) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stderr.Write(p)
}

func (w *watchProcess) log() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stderr.String()
}

// startWatch runs the watch on a compose file; it is stopped with SIGTERM
// at cleanup if the test did not stop it.
func startWatch(t *testing.T, stack, composeFile string, extra ...string) *watchProcess {
	t.Helper()
	args := append([]string{"stack", "watch", "-f", composeFile, "--name", stack, "--debounce", "300ms", "--poll-members", "1s"}, extra...)
	w := &watchProcess{cmd: exec.Command(binary(t), args...), done: make(chan error, 1)}
	w.cmd.Stderr = w
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.done <- w.cmd.Wait() }()
	t.Cleanup(func() {
		if !w.stopped {
			w.stop(t)
		}
	})
	return w
}

// stop sends SIGTERM and checks the watch exits cleanly (status 0).
func (w *watchProcess) stop(t *testing.T) {
	t.Helper()
	w.stopped = true
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-w.done:
		if err != nil {
			t.Errorf("watch exited with %v after SIGTERM\n%s", err, w.log())
		}
	case <-time.After(20 * time.Second):
		_ = w.cmd.Process.Kill()
		t.Errorf("watch ignored SIGTERM for 20s\n%s", w.log())
	}
}
