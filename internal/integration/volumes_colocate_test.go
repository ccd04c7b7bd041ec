package integration

import (
	"strings"
	"testing"
)

// TestVolumesSharedLocalColocated: two services mounting one named volume
// on the bed's local (dir) pool land on one member, with the volume, and
// see the same file: written by one, read by the other (and by a second
// replica). Spread alone would put the three instances on three members.
func TestVolumesSharedLocalColocated(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-volumes-colocate"
	removeWithVolumes(t, stack)
	compose := `
services:
  writer:
    image: busybox
    volumes: [data:/data]
    deploy: {replicas: 2}
  reader:
    image: busybox
    volumes: [data:/shared]
volumes:
  data: {}
`
	r := call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose}).mustSucceed(t)
	got := placement(t, srv, stack)
	if names(got) != "reader-1,writer-1,writer-2" {
		t.Fatalf("instances %v", got)
	}
	home := got["reader-1"]
	for inst, member := range got {
		if member != home {
			t.Errorf("%s runs on %s, reader-1 on %s: not co-located (%v)", inst, member, home, got)
		}
	}
	vols := customVolumes(t, stack)
	if len(vols["data"]) != 1 || vols["data"][0].Location != home {
		t.Errorf("volume data: %+v, want one on %s", vols["data"], home)
	}
	warned := false
	for _, w := range r.Warnings {
		warned = warned || strings.Contains(w, "services reader, writer share volume data on local pool") && strings.Contains(w, "placed together on member "+home)
	}
	if !warned {
		t.Errorf("no co-location warning naming the services, the volume and %s in %q", home, r.Warnings)
	}
	inInstance(t, stack, "writer-1", "echo from-writer-1 > /data/f")
	for _, inst := range []string{"reader-1", "writer-2"} {
		path := "/data/f"
		if inst == "reader-1" {
			path = "/shared/f"
		}
		if out := inInstance(t, stack, inst, "cat "+path); out != "from-writer-1" {
			t.Errorf("%s reads %q from %s, want the file writer-1 wrote", inst, out, path)
		}
	}
}
