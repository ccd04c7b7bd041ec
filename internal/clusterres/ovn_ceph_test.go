package clusterres

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func strp(s string) *string { return &s }

func run(c interface {
	Clustered() bool
	ServerName() string
}, k Kind, api API, members []string) *Run {
	return &Run{Kind: k, Server: Server{API: api, Clustered: c.Clustered(), Self: c.ServerName(), Members: members}}
}

// TestCephPoolRequests: seed 001's shared Ceph pool. Incus keeps `source`
// per member, so every member gets a pending definition carrying it, and
// the cluster-wide create carries the rest.
func TestCephPoolRequests(t *testing.T) {
	f, c := newFakeIncus(t, "node1", "node2", "node3")
	r := run(c, Pool, c.StoragePools(), []string{"node1", "node2", "node3"})
	err := r.Present(context.Background(), Spec{Name: "ceph-pool", Type: "ceph",
		Config:      map[string]string{"source": "incus", "ceph.cluster_name": "ceph", "ceph.osd.pg_num": "32", "ceph.rbd.clone_copy": "true"},
		Description: strp("Shared Ceph storage pool")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`GET /1.0/storage-pools/ceph-pool`,
		`POST /1.0/storage-pools?target=node1 {"config":{"source":"incus"},"driver":"ceph","name":"ceph-pool"}`,
		`POST /1.0/storage-pools?target=node2 {"config":{"source":"incus"},"driver":"ceph","name":"ceph-pool"}`,
		`POST /1.0/storage-pools?target=node3 {"config":{"source":"incus"},"driver":"ceph","name":"ceph-pool"}`,
		`POST /1.0/storage-pools {"config":{"ceph.cluster_name":"ceph","ceph.osd.pg_num":"32","ceph.rbd.clone_copy":"true"},"description":"Shared Ceph storage pool","driver":"ceph","name":"ceph-pool"}`,
		`PATCH /1.0/storage-pools/ceph-pool {"config":{},"description":"Shared Ceph storage pool"}`,
	}
	checkRequests(t, f.sent(), want)
}

// TestOVNNetworkRequests: an OVN network has no member-specific config;
// Incus refuses ?target= for it and defines it on every member itself, so
// the run is one cluster-wide create, in the connection's project.
func TestOVNNetworkRequests(t *testing.T) {
	f, c := newFakeIncus(t, "node1", "node2", "node3")
	r := run(c, Network, c.ManagedNetworks("tenant"), []string{"node1", "node2", "node3"})
	err := r.Present(context.Background(), Spec{Name: "ovn-cluster", Type: "ovn",
		Config: map[string]string{"network": "ovn-uplink", "ipv4.address": "10.200.0.1/16", "ipv4.nat": "true", "dns.domain": "cluster.local"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`GET /1.0/networks/ovn-cluster?project=tenant`,
		`POST /1.0/networks?project=tenant {"config":{"dns.domain":"cluster.local","ipv4.address":"10.200.0.1/16","ipv4.nat":"true","network":"ovn-uplink"},"name":"ovn-cluster","type":"ovn"}`,
	}
	checkRequests(t, f.sent(), want)

	// A second run reads and changes nothing; a changed key is one PATCH
	// of the cluster-wide config.
	r = run(c, Network, c.ManagedNetworks("tenant"), []string{"node1", "node2", "node3"})
	before := len(f.sent())
	if err := r.Present(context.Background(), Spec{Name: "ovn-cluster", Type: "ovn", Config: map[string]string{"ipv4.nat": "true"}}); err != nil {
		t.Fatal(err)
	}
	checkRequests(t, f.sent()[before:], []string{`GET /1.0/networks/ovn-cluster?project=tenant`})
	if len(r.Changes) != 0 {
		t.Fatalf("changes %+v", r.Changes)
	}
	before = len(f.sent())
	r = run(c, Network, c.ManagedNetworks("tenant"), []string{"node1", "node2", "node3"})
	if err := r.Present(context.Background(), Spec{Name: "ovn-cluster", Type: "ovn", Config: map[string]string{"ipv4.nat": "false"}}); err != nil {
		t.Fatal(err)
	}
	checkRequests(t, f.sent()[before:], []string{`GET /1.0/networks/ovn-cluster?project=tenant`,
		`PATCH /1.0/networks/ovn-cluster?project=tenant {"config":{"ipv4.nat":"false"}}`})
}

// TestOVNRefusesMemberConfig: member_config on an OVN network is an error
// before any request.
func TestOVNRefusesMemberConfig(t *testing.T) {
	f, c := newFakeIncus(t, "node1", "node2")
	r := run(c, Network, c.ManagedNetworks(""), []string{"node1", "node2"})
	err := r.Present(context.Background(), Spec{Name: "ovn1", Type: "ovn", MemberConfig: map[string]map[string]string{"node1": {"parent": "eth1"}}})
	if err == nil || !strings.Contains(err.Error(), "no member-specific keys") {
		t.Fatalf("err %v", err)
	}
	if got := f.sent(); len(got) != 0 {
		t.Fatalf("sent %q", got)
	}
}

func checkRequests(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("requests:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
