package clusterres

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

type seedPillar struct {
	Incus struct {
		StoragePools map[string]struct {
			Driver      string            `yaml:"driver"`
			Config      map[string]string `yaml:"config"`
			Description string            `yaml:"description"`
		} `yaml:"storage_pools"`
		Networks map[string]struct {
			NetworkType string            `yaml:"network_type"`
			Config      map[string]string `yaml:"config"`
			Description string            `yaml:"description"`
		} `yaml:"networks"`
	} `yaml:"incus"`
}

// seedRequest builds the protocol request the Salt state sends for one
// pillar entry and checks it passes the action's schema.
func seedRequest(t *testing.T, action string, params map[string]any) {
	t.Helper()
	data, _ := json.Marshal(map[string]any{"version": 1, "action": action, "params": params})
	if _, perr := protocol.Decode(bytes.NewReader(data)); perr != nil {
		t.Fatalf("%s %v: %s", action, params["name"], perr.Message)
	}
}

// TestSeedPillarRequests applies seed 001's pillar (storage pools and
// networks, in its own format) on a 3-member cluster and checks the exact
// requests: the dir pool's source and the Ceph pool's source go into each
// member's pending definition, the bridge is defined on each member, the
// OVN network is one cluster-wide create.
func TestSeedPillarRequests(t *testing.T) {
	raw, err := os.ReadFile("testdata/seed001_pillar.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var pillar seedPillar
	if err := yaml.Unmarshal(raw, &pillar); err != nil {
		t.Fatal(err)
	}
	members := []string{"node1", "node2", "node3"}
	f, c := newFakeIncus(t, members...)
	for _, name := range sortedKeys(pillar.Incus.StoragePools) {
		p := pillar.Incus.StoragePools[name]
		seedRequest(t, "storage_pool.present", map[string]any{"name": name, "driver": p.Driver, "config": p.Config, "description": p.Description})
		r := run(c, Pool, c.StoragePools(), members)
		if err := r.Present(context.Background(), Spec{Name: name, Type: p.Driver, Config: p.Config, Description: strp(p.Description)}); err != nil {
			t.Fatalf("pool %s: %v", name, err)
		}
	}
	for _, name := range sortedKeys(pillar.Incus.Networks) {
		n := pillar.Incus.Networks[name]
		seedRequest(t, "network.present", map[string]any{"name": name, "network_type": n.NetworkType, "config": n.Config, "description": n.Description})
		r := run(c, Network, c.ManagedNetworks(""), members)
		if err := r.Present(context.Background(), Spec{Name: name, Type: n.NetworkType, Config: n.Config, Description: strp(n.Description)}); err != nil {
			t.Fatalf("network %s: %v", name, err)
		}
	}
	checkRequests(t, f.sent(), []string{
		`GET /1.0/storage-pools/ceph-pool`,
		`POST /1.0/storage-pools?target=node1 {"config":{"source":"incus"},"driver":"ceph","name":"ceph-pool"}`,
		`POST /1.0/storage-pools?target=node2 {"config":{"source":"incus"},"driver":"ceph","name":"ceph-pool"}`,
		`POST /1.0/storage-pools?target=node3 {"config":{"source":"incus"},"driver":"ceph","name":"ceph-pool"}`,
		`POST /1.0/storage-pools {"config":{"ceph.cluster_name":"ceph","ceph.osd.pg_num":"32","ceph.rbd.clone_copy":"true"},"description":"Shared Ceph storage pool","driver":"ceph","name":"ceph-pool"}`,
		`PATCH /1.0/storage-pools/ceph-pool {"config":{},"description":"Shared Ceph storage pool"}`,
		`GET /1.0/storage-pools/local`,
		`POST /1.0/storage-pools?target=node1 {"config":{"source":"/var/lib/incus/storage-pools/local"},"driver":"dir","name":"local"}`,
		`POST /1.0/storage-pools?target=node2 {"config":{"source":"/var/lib/incus/storage-pools/local"},"driver":"dir","name":"local"}`,
		`POST /1.0/storage-pools?target=node3 {"config":{"source":"/var/lib/incus/storage-pools/local"},"driver":"dir","name":"local"}`,
		`POST /1.0/storage-pools {"config":{},"description":"Local storage pool","driver":"dir","name":"local"}`,
		`PATCH /1.0/storage-pools/local {"config":{},"description":"Local storage pool"}`,
		`GET /1.0/networks/lxdbr0`,
		`POST /1.0/networks?target=node1 {"config":{},"name":"lxdbr0","type":"bridge"}`,
		`POST /1.0/networks?target=node2 {"config":{},"name":"lxdbr0","type":"bridge"}`,
		`POST /1.0/networks?target=node3 {"config":{},"name":"lxdbr0","type":"bridge"}`,
		`POST /1.0/networks {"config":{"ipv4.address":"10.0.0.1/24","ipv4.nat":"true"},"description":"Local bridge network","name":"lxdbr0","type":"bridge"}`,
		`PATCH /1.0/networks/lxdbr0 {"config":{},"description":"Local bridge network"}`,
		`GET /1.0/networks/ovn-cluster`,
		`POST /1.0/networks {"config":{"dns.domain":"cluster.local","ipv4.address":"10.200.0.1/16","ipv4.nat":"true","network":"ovn-uplink"},"description":"Cluster-wide OVN network","name":"ovn-cluster","type":"ovn"}`,
		`PATCH /1.0/networks/ovn-cluster {"config":{},"description":"Cluster-wide OVN network"}`,
	})
}
