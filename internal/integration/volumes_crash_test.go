package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/crashpoint"
)

// crashVolumesCompose: db with a per-slot volume, optionally pinned to one
// member (pinned, not merely kept off one: other stacks on the bed, such as
// the demo, change which member the spread picks).
func crashVolumesCompose(replicas int, on string) string {
	placement := ""
	if on != "" {
		placement = fmt.Sprintf("\n      placement: {constraints: [\"node.hostname == %s\"]}", on)
	}
	return fmt.Sprintf(`
services:
  db:
    image: busybox
    volumes: [data:/data]
    deploy:
      replicas: %d%s
volumes:
  data: {}
`, replicas, placement)
}

// TestVolumesCrashPoints kills the binary at volume create, attach
// (instance created with its disk, not started), the copy of a move (made
// but not yet marked complete, and marked but the source not deleted) and
// a prune's delete. The next run converges: every slot runs with exactly
// one copy of its volume, the data written before a move is there, no
// volume is orphaned without being reported, and none is deleted unless
// prune_volumes asked for it.
func TestVolumesCrashPoints(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	testbed(t)
	cases := []struct {
		point     string
		from, to  string // compose before the crashing run ("" = none) and of it
		params    map[string]any
		replicas  int
		wantNames []string
	}{
		{"volume-created:1", "", crashVolumesCompose(2, ""), nil, 2, []string{"data-1", "data-2"}},
		{"created-not-started:1", "", crashVolumesCompose(2, ""), nil, 2, []string{"data-1", "data-2"}},
		{"volume-copy-made:1", crashVolumesCompose(1, "node1"), crashVolumesCompose(1, "node2"), map[string]any{"move_volumes": true}, 1, []string{"data-1"}},
		{"volume-copied:1", crashVolumesCompose(1, "node1"), crashVolumesCompose(1, "node2"), map[string]any{"move_volumes": true}, 1, []string{"data-1"}},
		{"volume-deleted:1", crashVolumesCompose(3, ""), crashVolumesCompose(1, ""), map[string]any{"prune_volumes": true}, 1, []string{"data-1"}},
	}
	for i, c := range cases {
		t.Run(c.point, func(t *testing.T) {
			stack := fmt.Sprintf("it-volcrash-%d", i)
			removeWithVolumes(t, stack)
			params := map[string]any{"name": stack, "compose_yaml": c.to}
			for k, v := range c.params {
				params[k] = v
			}
			if c.from != "" {
				call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": c.from}).mustSucceed(t)
				inInstance(t, stack, "db-1", "echo before > /data/f")
			}
			if !crashRunParams(t, params, c.point) {
				t.Fatalf("the run was not killed at %s", c.point)
			}
			r := call(t, "stack.present", false, params).mustSucceed(t)
			insts, _ := dbPlacement(t, stack)
			vols := customVolumes(t, stack)
			if len(insts) != c.replicas {
				t.Errorf("instances %v, want %d", insts, c.replicas)
			}
			var names []string
			for name, copies := range vols {
				names = append(names, name)
				if len(copies) != 1 {
					t.Errorf("volume %s has %d copies: %+v", name, len(copies), copies)
				}
				if len(copies[0].UsedBy) == 0 && !strings.Contains(strings.Join(r.Warnings, "\n"), name) {
					t.Errorf("volume %s is orphaned and not reported: %q", name, r.Warnings)
				}
			}
			if got, want := fmt.Sprint(sortedCopy(names)), fmt.Sprint(c.wantNames); got != want {
				t.Errorf("volumes %s, want %s", got, want)
			}
			for name, where := range insts {
				if !strings.HasSuffix(where, "/Running") {
					t.Errorf("%s is %s", name, where)
				}
			}
			if c.from != "" {
				if got := inInstance(t, stack, "db-1", "cat /data/f"); got != "before" {
					t.Errorf("db-1 has %q after recovery, want the data written before", got)
				}
			}
			again := call(t, "stack.present", false, params).mustSucceed(t)
			if len(again.Changes) != 0 {
				t.Errorf("a further run still changes: %s", again.Raw)
			}
		})
	}
}

// crashRunParams runs stack.present with params in a subprocess armed to
// SIGKILL itself at a crash point; it reports whether it died so.
func crashRunParams(t *testing.T, params map[string]any, point string) bool {
	t.Helper()
	req, _ := json.Marshal(map[string]any{"version": 1, "action": "stack.present", "params": params})
	cmd := exec.Command(binary(t), "call")
	cmd.Stdin = bytes.NewReader(req)
	cmd.Env = append(os.Environ(), crashpoint.EnvVar+"="+point)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true
		}
	}
	t.Logf("run armed at %s ended with %v:\n%s", point, err, out.String())
	return false
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
