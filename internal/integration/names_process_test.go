package integration

import (
	"strings"
	"testing"
	"time"
)

// TestNamesCommandAndUserServices: services whose command replaces the
// image's init, or whose user: runs it unprivileged, get their address on
// the bed's LAN and resolve and answer by name from a client on another
// instance (the fleet's start hook runs the image's udhcpc as root with an
// event script that applies the lease).
func TestNamesCommandAndUserServices(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	testbed(t)
	requireLAN(t)
	const stack = "it-names-proc"
	cleanup(t, stack)
	file := writeCompose(t, `services:
  cmd:
    image: busybox
    command: ["sh", "-c", "mkdir -p /srv/www && echo \"cmd from $$(hostname)\" > /srv/www/index.html && exec httpd -f -p 80 -h /srv/www"]
  usr:
    image: busybox
    user: "1000"
    command: ["sh", "-c", "echo \"usr from $$(hostname)\" > /tmp/index.html && exec httpd -f -p 8080 -h /tmp"]
  usronly:
    image: busybox
    user: "1000"
  client:
    image: busybox
    deploy:
      placement:
        constraints: [node.hostname == node1]
`)
	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_files": []string{file}}).mustSucceed(t)
	if w := strings.Join(r.Warnings, "\n"); strings.Contains(w, "IPv4") {
		t.Errorf("warnings about addresses:\n%s", w)
	}
	if got, err := fetch(t, stack, "client-1", "http://cmd/"); err != nil || got != "cmd from cmd-1" {
		t.Errorf("client -> http://cmd/: %q (%v), want %q", got, err, "cmd from cmd-1")
	}
	if got, err := fetch(t, stack, "client-1", "http://usr:8080/"); err != nil || got != "usr from usr-1" {
		t.Errorf("client -> http://usr:8080/: %q (%v), want %q", got, err, "usr from usr-1")
	}
	// usronly runs the image's own init as uid 1000 (which cannot serve
	// on port 80): it must still have its address and answer a ping.
	if out, err := inside(t, stack, "client-1", "ping", "-c", "1", "-W", "2", "usronly"); err != nil {
		t.Errorf("client -> ping usronly: %v\n%s", err, out)
	}
	// The process still runs as the user.
	for _, inst := range []string{"usr-1", "usronly-1"} {
		out, err := inside(t, stack, inst, "grep", "^Uid:", "/proc/1/status")
		if err != nil || !strings.HasPrefix(strings.Join(strings.Fields(out), " "), "Uid: 1000 1000") {
			t.Errorf("%s: first process %q (%v), want uid 1000", inst, out, err)
		}
	}
}

// TestCommandStartsWithItsAddressOnDebian: on a distribution image the
// address hook runs dhclient, which returns before its first lease; the
// service's process must still start with its address (a process started
// without one resolves no name at all: glibc's getaddrinfo with
// AI_ADDRCONFIG, as nginx uses it). Before the hook waited, eth0 had no
// IPv4 address when the command started.
func TestCommandStartsWithItsAddressOnDebian(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	requireLAN(t)
	requireImage(t, srv, realAppImage)
	const stack = "it-cmd-debian"
	cleanup(t, stack)
	file := writeCompose(t, `services:
  app:
    image: `+realAppImage+`
    command: ["sh", "-c", "ip -4 addr show dev eth0 > /tmp/at-start; getent ahostsv4 app-1 > /tmp/resolved; exec sleep 1000"]
`)
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_files": []string{file}}).mustSucceed(t)
	var atStart, resolved string
	waitFor(t, 30*time.Second, "the command's first lines", func() (bool, string) {
		atStart, _ = inside(t, stack, "app-1", "cat", "/tmp/at-start")
		resolved, _ = inside(t, stack, "app-1", "cat", "/tmp/resolved")
		return atStart != "", atStart
	})
	if !strings.Contains(atStart, "inet ") {
		t.Errorf("eth0 had no IPv4 address when the command started:\n%s", atStart)
	}
	if !strings.Contains(resolved, "app-1") {
		t.Errorf("the command could not resolve its own name at start: %q", resolved)
	}
}
