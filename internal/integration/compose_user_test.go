package integration

import (
	"strings"
	"testing"
)

// TestComposeUserNames: user: given by name runs the first process with
// the ids the image's own /etc/passwd and /etc/group give that name (the
// test image has nobody 65534:65534 and group root 0), read inside the
// container; a name the image lacks fails naming the service, the user and
// the image, and leaves no half-created instance behind.
func TestComposeUserNames(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-compose-user"
	cleanup(t, stack)
	compose := `
services:
  named:
    image: busybox
    command: ["sh", "-c", "exec sleep 3600"]
    user: nobody
  grouped:
    image: busybox
    command: ["sh", "-c", "exec sleep 3600"]
    user: "nobody:root"
  numeric:
    image: busybox
    command: ["sh", "-c", "exec sleep 3600"]
    user: "1000:nogroup"
`
	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose}).mustSucceed(t)
	if strings.Contains(strings.Join(r.Warnings, "\n"), "user") {
		t.Errorf("user names are mapped, yet warned about: %q", r.Warnings)
	}
	ids := "grep -E '^(Uid|Gid):' /proc/1/status | awk '{print $2}' | tr '\\n' ' '"
	for inst, want := range map[string]string{"named-1": "65534 65534", "grouped-1": "65534 0", "numeric-1": "1000 65534"} {
		if got := incusExec(t, stack, inst, ids); got != want {
			t.Errorf("%s: uid gid of the first process %q, want %q", inst, got, want)
		}
	}

	bad := compose + `
  bad:
    image: busybox
    command: ["sh", "-c", "exec sleep 3600"]
    user: postgres
`
	r = call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": bad})
	if r.Exit == 0 || r.Error == nil {
		t.Fatalf("an unknown user name succeeded: %s", r.Raw)
	}
	for _, want := range []string{`service "bad"`, `user "postgres"`, `no user "postgres" in /etc/passwd`, "the image busybox"} {
		if !strings.Contains(r.Error.Message, want) {
			t.Errorf("message lacks %q: %s", want, r.Error.Message)
		}
	}
	p := placement(t, srv, stack)
	if _, ok := p["bad-1"]; ok {
		t.Errorf("the instance of the failed user was left behind: %v", p)
	}
	if len(p) != 3 {
		t.Errorf("instances after the failure %v, want the three that ran", p)
	}
}
