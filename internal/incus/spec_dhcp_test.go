package incus

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Which instances get the address hook: a system container image whose
// init is replaced or run as a user, with a NIC. Never an OCI image (Incus
// runs its networking, and it may have no /bin/sh for a hook), never a
// service that keeps the image's init as root, never one without a NIC.
func TestAddressHookChoice(t *testing.T) {
	uid := int64(1000)
	nic := map[string]map[string]string{"eth0": {"type": "nic", "nictype": "bridged", "parent": "br0", "name": "eth0"}}
	sys := Image{Ref: "busybox", Source: InstanceSource{Type: "image", Alias: "busybox"}}
	oci := Image{Ref: "docker.io/x", oci: &ociSource{}}
	cases := []struct {
		name string
		svc  model.Service
		img  Image
		nics bool
		want bool
	}{
		{"command", model.Service{Command: []string{"sleep", "1"}}, sys, true, true},
		{"entrypoint", model.Service{Entrypoint: []string{"/app"}}, sys, true, true},
		{"numeric user", model.Service{Runtime: model.Runtime{UID: &uid}}, sys, true, true},
		{"named user", model.Service{Runtime: model.Runtime{User: "postgres"}}, sys, true, true},
		{"image init as root", model.Service{}, sys, true, false},
		{"no NIC", model.Service{Command: []string{"sleep", "1"}}, sys, false, false},
		{"OCI", model.Service{Command: []string{"sleep", "1"}, Runtime: model.Runtime{UID: &uid}}, oci, true, false},
	}
	for _, c := range cases {
		c.svc.Name = "svc"
		post := InstanceSpec("s", &c.svc, model.Step{Instance: "svc-1", Slot: 1}, c.img, model.Member{}, "h")
		if c.nics {
			post.Devices = nic
		}
		before := post.Config["raw.lxc"]
		f, ok := withAddressHook(&post)
		if ok != c.want {
			t.Errorf("%s: hook %v, want %v", c.name, ok, c.want)
			continue
		}
		if !ok {
			if post.Config["raw.lxc"] != before {
				t.Errorf("%s: raw.lxc changed without a hook: %q", c.name, post.Config["raw.lxc"])
			}
			continue
		}
		if f.Target != addressHookPath || f.Mode != 0o755 || string(f.Content) != addressScript {
			t.Errorf("%s: hook file %s %o", c.name, f.Target, f.Mode)
		}
		lines := strings.Split(post.Config["raw.lxc"], "\n")
		if lines[len(lines)-1] != "lxc.hook.start = /etc/incus-fleet-net" || (before != "" && lines[0] != strings.Split(before, "\n")[0]) {
			t.Errorf("%s: raw.lxc %q", c.name, post.Config["raw.lxc"])
		}
		if strings.Contains(post.Config[initEnvKey], "udhcpc") {
			t.Errorf("%s: the init wrapper still starts a DHCP client: %q", c.name, post.Config[initEnvKey])
		}
	}
}

// A NIC without an address at the timeout carries the reason the hook
// left (the image has no DHCP client), read from the instance.
func TestWaitAddressesReportsHookReason(t *testing.T) {
	c := startFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/1.0":
			_ = json.NewEncoder(w).Encode(map[string]any{"type": "sync", "status_code": 200, "metadata": map[string]any{
				"api_extensions": []string{}, "auth": "trusted", "environment": map[string]any{"server_clustered": false}}})
		case strings.HasSuffix(r.URL.Path, "/state"):
			_ = json.NewEncoder(w).Encode(map[string]any{"type": "sync", "status_code": 200, "metadata": map[string]any{
				"status": "Running", "network": map[string]any{"eth0": map[string]any{"addresses": []any{}}}}})
		case strings.HasSuffix(r.URL.Path, "/files") && r.URL.Query().Get("path") == addressStatusPath:
			w.Header().Set("X-Incus-Type", "file")
			_, _ = w.Write([]byte("no DHCP client in the image: add udhcpc, dhcpcd or dhclient\n"))
		default:
			w.WriteHeader(404)
			_ = json.NewEncoder(w).Encode(map[string]any{"type": "error", "error": "not found", "error_code": 404})
		}
	}))
	_, missing, err := c.WaitAddresses(context.Background(), "s", "svc-1", []NIC{{Name: "eth0", Networks: []string{"default"}}}, 200*time.Millisecond)
	want := "eth0 (no DHCP client in the image: add udhcpc, dhcpcd or dhclient)"
	if err != nil || len(missing) != 1 || missing[0] != want {
		t.Fatalf("missing %q (%v), want [%q]", missing, err, want)
	}
}
