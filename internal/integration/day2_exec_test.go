package integration

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/app"
)

// TestStackExec: a command runs in the replica named (slot 1 by default),
// and its exit code, stdout and stderr pass through, a non-zero exit too.
func TestStackExec(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	testbed(t)
	const stack = "it-exec"
	cleanup(t, stack)
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": composeWeb(2)}).mustSucceed(t)

	var out, errOut bytes.Buffer
	code := app.Main([]string{"incus-fleet", "stack", "exec", "-n", stack, "web.2", "--", "sh", "-c", "hostname; echo to-stderr >&2; exit 3"},
		strings.NewReader(""), &out, &errOut)
	if code != 3 || out.String() != "web-2\n" || errOut.String() != "to-stderr\n" {
		t.Errorf("exec web.2: exit %d, stdout %q, stderr %q; want 3, \"web-2\\n\", \"to-stderr\\n\"", code, out.String(), errOut.String())
	}
	// Slot 1 by default; exit 0.
	out.Reset()
	errOut.Reset()
	code = app.Main([]string{"incus-fleet", "stack", "exec", "-n", stack, "web", "--", "hostname"}, strings.NewReader(""), &out, &errOut)
	if code != 0 || out.String() != "web-1\n" {
		t.Errorf("exec web: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
	// Output streams without the 64 KiB bound of recorded output, and -i
	// feeds stdin.
	out.Reset()
	errOut.Reset()
	code = app.Main([]string{"incus-fleet", "stack", "exec", "-n", stack, "web.2", "--", "seq", "1", "20000"}, strings.NewReader(""), &out, &errOut)
	if lines := strings.Count(out.String(), "\n"); code != 0 || lines != 20000 || !strings.HasSuffix(out.String(), "\n20000\n") {
		t.Errorf("exec seq 1 20000: exit %d, %d lines (%d bytes), stderr %q", code, lines, out.Len(), errOut.String())
	}
	out.Reset()
	errOut.Reset()
	code = app.Main([]string{"incus-fleet", "stack", "exec", "-i", "-n", stack, "web", "--", "sh", "-c", "tr a-z A-Z; exit 4"}, strings.NewReader("from stdin\n"), &out, &errOut)
	if code != 4 || out.String() != "FROM STDIN\n" {
		t.Errorf("exec -i: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
	// The protocol action: result true, the command's exit code in the response.
	r := call(t, "stack.exec", false, map[string]any{"name": stack, "target": "web-1", "command": []string{"sh", "-c", "echo x; exit 7"}}).mustSucceed(t)
	var body struct {
		ExitCode int    `json:"exit_code"`
		Stdout   string `json:"stdout"`
		Instance string `json:"instance"`
	}
	_ = json.Unmarshal(r.Raw, &body)
	if body.ExitCode != 7 || body.Stdout != "x\n" || body.Instance != "web-1" {
		t.Errorf("stack.exec: %s", r.Raw)
	}
	// A replica that does not exist: not_found, naming what exists.
	r = call(t, "stack.exec", false, map[string]any{"name": stack, "target": "web.9", "command": []string{"true"}})
	if r.Error == nil || r.Error.Code != "not_found" || !strings.Contains(string(r.Raw), "web.1, web.2") {
		t.Errorf("exec in web.9: %s", r.Raw)
	}
}
