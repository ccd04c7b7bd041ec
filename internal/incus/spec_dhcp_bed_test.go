package incus

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// hookedSpec is InstanceSpec's instance for a service with a command run as
// uid 1000, with one NIC per name on the bed's LAN bridge.
func hookedSpec(t *testing.T, name string, nicNames ...string) (InstancesPost, []NIC) {
	t.Helper()
	bridge := os.Getenv("INCUS_FLEET_TESTBED_BRIDGE")
	if bridge == "" {
		t.Skip("the test bed has no LAN bridge (INCUS_FLEET_TESTBED_BRIDGE): run make testbed-up")
	}
	uid := int64(1000)
	svc := &model.Service{Name: "svc", Command: []string{"sleep", "3600"}, Runtime: model.Runtime{UID: &uid, GID: &uid}}
	img := Image{Ref: "busybox", Source: InstanceSource{Type: "image", Alias: "busybox"}}
	post := InstanceSpec("default", svc, model.Step{Instance: name, Slot: 1}, img, model.Member{}, "h")
	var nics []NIC
	for _, n := range nicNames {
		nics = append(nics, NIC{Name: n, Device: map[string]string{"type": "nic", "nictype": "bridged", "parent": bridge}})
	}
	post.Devices = NetworkDevices(nics)
	return post, nics
}

// TestAddressHookTwoNICsBed: a command run as uid 1000 with two NICs gets
// an IPv4 address on both from the bed's DHCP server (the image's busybox
// udhcpc, started by the hook as root), and its first process still runs
// as uid 1000.
func TestAddressHookTwoNICsBed(t *testing.T) {
	c := bed(t)
	ctx := context.Background()
	const name = "it-hook-nics"
	post, nics := hookedSpec(t, name, "eth0", "eth1")
	bedInstance(t, c, post)
	addrs, missing, err := c.WaitAddresses(ctx, "default", name, []NIC{
		{Name: "eth0", Networks: []string{"a"}}, {Name: "eth1", Networks: []string{"b"}}}, 15*time.Second)
	if err != nil || len(missing) > 0 || addrs["a"] == "" || addrs["b"] == "" || addrs["a"] == addrs["b"] {
		t.Fatalf("addresses %v, missing %v (%v); want one on each of %d NICs", addrs, missing, err, len(nics))
	}
	r, err := c.ExecOutput(ctx, "default", name, []string{"grep", "^Uid:", "/proc/1/status"}, 10*time.Second)
	if err != nil || !strings.HasPrefix(strings.Join(strings.Fields(r.Stdout), " "), "Uid: 1000 1000") {
		t.Errorf("first process %q (%v), want uid 1000", r.Stdout, err)
	}
}
