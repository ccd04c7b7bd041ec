package cluster

import (
	"reflect"
	"strings"
	"testing"
)

func TestFillMemberConfig(t *testing.T) {
	required := []ConfigKey{
		{Entity: "storage-pool", Name: "local", Key: "source"},
		{Entity: "storage-pool", Name: "zfs", Key: "zfs.pool_name"},
		{Entity: "storage-pool", Name: "zfs", Key: "size"},
		{Entity: "network", Name: "br0", Key: "bridge.external_interfaces"},
	}
	answering := map[string]string{
		"storage-pool/local/source":      "/var/lib/incus/storage-pools/local",
		"storage-pool/zfs/zfs.pool_name": "tank",
		"storage-pool/zfs/size":          "10GiB",
	}
	overrides := []ConfigKey{
		{Entity: "network", Name: "br0", Key: "bridge.external_interfaces", Value: "eth1"},
		{Entity: "storage-pool", Name: "nope", Key: "source", Value: "/dev/sdb"},
	}
	got, warnings := FillMemberConfig(required, answering, overrides)
	want := []ConfigKey{
		{Entity: "storage-pool", Name: "local", Key: "source", Value: ""},
		{Entity: "storage-pool", Name: "zfs", Key: "zfs.pool_name", Value: "tank"},
		{Entity: "storage-pool", Name: "zfs", Key: "size", Value: "10GiB"},
		{Entity: "network", Name: "br0", Key: "bridge.external_interfaces", Value: "eth1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "storage-pool/nope/source") {
		t.Fatalf("warnings %v", warnings)
	}
}

func TestPlanServerConfig(t *testing.T) {
	cur := map[string]string{"core.https_address": "127.0.0.1:9601", "cluster.offline_threshold": "20"}
	want := map[string]string{"core.https_address": "127.0.0.1:9601", "cluster.https_address": "127.0.0.1:9601",
		"cluster.offline_threshold": "11", "cluster.max_voters": ""}
	set, changes := PlanServerConfig(cur, want)
	if !reflect.DeepEqual(set, map[string]string{"cluster.https_address": "127.0.0.1:9601", "cluster.offline_threshold": "11"}) {
		t.Fatalf("set %v", set)
	}
	if len(changes) != 2 || changes[0].Key != "config.cluster.https_address" || changes[0].Old != nil ||
		changes[1].Key != "config.cluster.offline_threshold" || changes[1].Old != "20" {
		t.Fatalf("changes %+v", changes)
	}
}
