package clusterres

import (
	"slices"
	"testing"
)

func TestUsers(t *testing.T) {
	got := Users([]string{
		"/1.0/profiles/default",
		"/1.0/instances/web-1?project=shop",
		"/1.0/storage-pools/local/volumes/custom/data?project=shop&target=node2",
		"/1.0/networks/uplink",
	})
	want := []string{"profile default", "instance web-1 (project shop)", "volume custom/data (project shop, member node2)", "network uplink"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
