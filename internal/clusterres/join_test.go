package clusterres

import (
	"reflect"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
)

func TestJoinValues(t *testing.T) {
	pools := map[string]Spec{
		"local": {"local", "dir", map[string]string{"source": "/srv/local", "rsync.bwlimit": "1MiB"},
			map[string]map[string]string{"node4": {"source": "/data/local"}}, nil},
		"zfs": {Name: "zfs", Type: "zfs", Config: map[string]string{"size": "10GiB"}},
	}
	networks := map[string]Spec{"lan": {Name: "lan", Type: "macvlan", MemberConfig: map[string]map[string]string{"node4": {"parent": "eth1"}}}}
	required := []cluster.ConfigKey{
		{Entity: "storage-pool", Name: "local", Key: "source"},
		{Entity: "storage-pool", Name: "zfs", Key: "zfs.pool_name"}, // no definition gives it: left to the join's rules
		{Entity: "network", Name: "lan", Key: "parent"},
		{Entity: "storage-pool", Name: "other", Key: "source"},
	}
	got := JoinValues(required, "node4", pools, networks)
	want := []cluster.ConfigKey{
		{Entity: "storage-pool", Name: "local", Key: "source", Value: "/data/local"},
		{Entity: "network", Name: "lan", Key: "parent", Value: "eth1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("JoinValues:\n got %+v\nwant %+v", got, want)
	}
	all := DefinedValues("node5", pools, networks)
	wantAll := []cluster.ConfigKey{
		{Entity: "storage-pool", Name: "local", Key: "source", Value: "/srv/local"},
		{Entity: "storage-pool", Name: "zfs", Key: "size", Value: "10GiB"},
	}
	if !reflect.DeepEqual(all, wantAll) {
		t.Fatalf("DefinedValues:\n got %+v\nwant %+v", all, wantAll)
	}
}
