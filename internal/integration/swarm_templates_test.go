package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSwarmTemplatesExpandPerInstance: {{.Task.Slot}}, {{.Task.Name}},
// {{.Node.Hostname}}, {{.Node.ID}} and {{.Service.Name}} in environment,
// hostname and a member bind source become each instance's own slot,
// name and member, as the first process and the instance's mounts show;
// the config hash is of the templates, so a re-apply changes nothing.
func TestSwarmTemplatesExpandPerInstance(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-swarm-templates"
	cleanup(t, stack)
	// The bind source is a path of the member; every bed member shares this
	// host, so one directory per member name stands in for each member's own.
	base := t.TempDir()
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"node1", "node2", "node3"} {
		if err := os.MkdirAll(filepath.Join(base, m), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(base, m, "who"), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	compose := `
services:
  web:
    image: busybox
    hostname: "{{.Service.Name}}-{{.Task.Slot}}"
    environment:
      SLOT: "{{.Task.Slot}}"
      TASK: "{{ .Task.Name }}"
      NODE: "{{.Node.Hostname}}"
      NODE_ID: "{{.Node.ID}}"
      SERVICE: "{{.Service.Name}}"
    volumes: ["` + base + `/{{.Node.Hostname}}:/member:ro"]
    deploy:
      replicas: 2
`
	params := map[string]any{"name": stack, "compose_yaml": compose}
	call(t, "stack.present", false, params).mustSucceed(t)
	got := placement(t, srv, stack)
	if names(got) != "web-1,web-2" {
		t.Fatalf("instances %v, want web-1, web-2", got)
	}
	for inst, member := range got {
		slot := strings.TrimPrefix(inst, "web-")
		// The first process's environment is what the service sees.
		// No template may reach the hosts file either.
		out := incusExec(t, stack, inst, `for k in SLOT TASK NODE NODE_ID SERVICE; do tr '\0' '\n' </proc/1/environ | grep "^$k="; done; echo "host=$(hostname)"; echo "bind=$(cat /member/who)"; echo "braces=$(grep -c '{{' /etc/hosts)"`)
		want := fmt.Sprintf("SLOT=%s\nTASK=%s\nNODE=%s\nNODE_ID=%s\nSERVICE=web\nhost=web-%s\nbind=%s\nbraces=0", slot, inst, member, member, slot, member)
		if out != want {
			t.Errorf("%s on %s sees:\n%s\nwant:\n%s", inst, member, out, want)
		}
	}
	r := call(t, "stack.present", false, params).mustSucceed(t)
	if len(r.Changes) != 0 {
		t.Errorf("re-apply of the same templates changed something: %s", r.Raw)
	}
}
