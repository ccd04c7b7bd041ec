package integration

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

var bedMembers = []string{"node1", "node2", "node3"}

func poolParams(name string, sources map[string]string) map[string]any {
	mc := map[string]any{}
	for m, dir := range sources {
		mc[m] = map[string]any{"source": dir}
	}
	return map[string]any{"name": name, "driver": "dir", "description": "incus-fleet test pool", "member_config": mc}
}

// TestStoragePoolAcrossMembers: a dir pool with a per-member source is
// CREATED on each member by the two-phase create; a re-run changes
// nothing; a description changes in place; the driver and a member's
// source cannot change (conflict naming them); absent refuses while a
// profile uses the pool, naming it.
func TestStoragePoolAcrossMembers(t *testing.T) {
	const pool = "fleet-tpool"
	sources := poolSources(t, pool, bedMembers...)
	dropPool(t, pool)
	t.Cleanup(func() { dropPool(t, pool) })
	params := poolParams(pool, sources)

	dry := call(t, "storage_pool.present", true, params)
	if dry.Exit != 0 || dry.Result != nil {
		t.Fatalf("test mode: %s", dry.Raw)
	}
	mustChangeKeys(t, dry, "pending.node1", "pending.node2", "pending.node3", "storage_pool")
	if _, found := query(t, "/1.0/storage-pools/"+pool); found {
		t.Fatal("test mode created the pool")
	}

	r := call(t, "storage_pool.present", false, params).mustSucceed(t)
	mustChangeKeys(t, r, "pending.node1", "pending.node2", "pending.node3", "storage_pool")
	doc, _ := query(t, "/1.0/storage-pools/"+pool)
	if doc["status"] != "Created" || !slices.Equal(stringsOf(doc, "locations"), bedMembers) || doc["description"] != "incus-fleet test pool" {
		t.Fatalf("pool after create: %v", doc)
	}
	for _, m := range bedMembers {
		on, _ := query(t, "/1.0/storage-pools/"+pool+"?target="+m)
		if on["status"] != "Created" || configOf(on)["source"] != sources[m] {
			t.Errorf("%s: status %v source %q, want Created %s", m, on["status"], configOf(on)["source"], sources[m])
		}
	}

	again := call(t, "storage_pool.present", false, params).mustSucceed(t)
	mustChangeKeys(t, again)
	if !strings.Contains(again.Comment, "up to date") {
		t.Fatalf("re-run: %s", again.Raw)
	}

	params["description"] = "changed"
	params["config"] = map[string]any{"rsync.bwlimit": "10MiB"}
	upd := call(t, "storage_pool.present", false, params).mustSucceed(t)
	mustChangeKeys(t, upd, "description", "config.rsync.bwlimit")
	if doc, _ := query(t, "/1.0/storage-pools/"+pool); doc["description"] != "changed" || configOf(doc)["rsync.bwlimit"] != "10MiB" {
		t.Fatalf("after update: %v", doc)
	}

	zfs := poolParams(pool, sources)
	zfs["driver"] = "zfs"
	mustFail(t, call(t, "storage_pool.present", false, zfs), "conflict", `driver "dir", not "zfs"`)
	moved := poolParams(pool, sources)
	moved["member_config"].(map[string]any)["node2"] = map[string]any{"source": sources["node2"] + "-elsewhere"}
	mustFail(t, call(t, "storage_pool.present", false, moved), "conflict", "member_config.node2.source")
	if on, _ := query(t, "/1.0/storage-pools/"+pool+"?target=node2"); configOf(on)["source"] != sources["node2"] {
		t.Fatalf("refused change changed the source: %v", on)
	}

	// In use: a profile with a disk on the pool.
	const profile = "fleet-tpool-user"
	_, _ = incusCLI(t, "profile", "delete", profile)
	if _, err := incusCLI(t, "profile", "create", profile); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = incusCLI(t, "profile", "delete", profile) })
	if _, err := incusCLI(t, "profile", "device", "add", profile, "root", "disk", "path=/", "pool="+pool); err != nil {
		t.Fatal(err)
	}
	mustFail(t, call(t, "storage_pool.absent", false, map[string]any{"name": pool}), "conflict", "used by profile "+profile)
	if _, err := incusCLI(t, "profile", "delete", profile); err != nil {
		t.Fatal(err)
	}
	dryGone := call(t, "storage_pool.absent", true, map[string]any{"name": pool})
	if dryGone.Exit != 0 || dryGone.Result != nil {
		t.Fatalf("absent in test mode: %s", dryGone.Raw)
	}
	mustChangeKeys(t, dryGone, "storage_pool")
	if _, found := query(t, "/1.0/storage-pools/"+pool); !found {
		t.Fatal("absent in test mode deleted the pool")
	}
	gone := call(t, "storage_pool.absent", false, map[string]any{"name": pool}).mustSucceed(t)
	mustChangeKeys(t, gone, "storage_pool")
	if _, found := query(t, "/1.0/storage-pools/"+pool); found {
		t.Fatal("pool still there after absent")
	}
	mustChangeKeys(t, call(t, "storage_pool.absent", false, map[string]any{"name": pool}).mustSucceed(t))
}

// TestStoragePoolCreateResumesAfterCrash kills the run between the two
// phases (after the second member's pending definition): Incus shows the
// pool Pending on two members, and the next run defines the third and
// creates it cluster-wide.
func TestStoragePoolCreateResumesAfterCrash(t *testing.T) {
	const pool = "fleet-tcrash"
	sources := poolSources(t, pool, bedMembers...)
	dropPool(t, pool)
	t.Cleanup(func() { dropPool(t, pool) })
	params := poolParams(pool, sources)

	if !crashCall(t, "storage_pool.present", params, "storage_pool.pending:2") {
		t.Fatal("the run did not die at storage_pool.pending:2")
	}
	doc, found := query(t, "/1.0/storage-pools/"+pool)
	if !found || doc["status"] != "Pending" || len(stringsOf(doc, "locations")) != 2 {
		t.Fatalf("after the crash: %v", doc)
	}
	r := call(t, "storage_pool.present", false, params).mustSucceed(t)
	mustChangeKeys(t, r, "pending.node3", "storage_pool")
	for _, m := range bedMembers {
		on, _ := query(t, "/1.0/storage-pools/"+pool+"?target="+m)
		if on["status"] != "Created" || configOf(on)["source"] != sources[m] {
			t.Errorf("%s: %v", m, on)
		}
	}
	// Crash after every pending definition, before the cluster-wide create.
	dropPool(t, pool)
	if !crashCall(t, "storage_pool.present", params, "storage_pool.pending:3") {
		t.Fatal("the run did not die at storage_pool.pending:3")
	}
	r = call(t, "storage_pool.present", false, params).mustSucceed(t)
	mustChangeKeys(t, r, "storage_pool")
	if doc, _ := query(t, "/1.0/storage-pools/"+pool); doc["status"] != "Created" {
		t.Fatalf("not finished: %v", doc)
	}
}

// vethParents creates one veth pair per member as the macvlan parents,
// named from the bed's API port so two beds never clash. They stay down
// and carry no traffic; cleanup deletes them.
func vethParents(t *testing.T) map[string]string {
	t.Helper()
	port := bedPort(t, 0)
	out := map[string]string{}
	for i, m := range bedMembers {
		name := fmt.Sprintf("fm%dn%d", port, i+1)
		peer := fmt.Sprintf("fm%dp%d", port, i+1)
		_ = exec.Command("ip", "link", "del", name).Run()
		if b, err := exec.Command("ip", "link", "add", name, "type", "veth", "peer", "name", peer).CombinedOutput(); err != nil {
			t.Fatalf("create %s: %v: %s", name, err, b)
		}
		t.Cleanup(func() { _ = exec.Command("ip", "link", "del", name).Run() })
		out[m] = name
	}
	return out
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := incusCLI(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// hostInterfaces lists the host's interfaces as name@link.
func hostInterfaces(t *testing.T) map[string]bool {
	t.Helper()
	out, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			names[strings.TrimSuffix(f[1], ":")] = true
		}
	}
	return names
}

// newInterfacesOn names the interfaces that appeared since before and are
// the network itself or hang off one of the parents (other helpers'
// containers come and go on this host: their veths do not count).
func newInterfacesOn(before, after map[string]bool, network string, parents map[string]string) []string {
	var out []string
	for name := range after {
		if before[name] {
			continue
		}
		base, link, _ := strings.Cut(name, "@")
		for _, p := range parents {
			if link == p || base == network {
				out = append(out, name)
			}
		}
	}
	return out
}

// TestMacvlanNetworkPerMemberParent: a macvlan network (no host interface
// of its own) with a different parent on each member, through the two
// phases; idempotent; absent refuses while a profile uses it.
func TestMacvlanNetworkPerMemberParent(t *testing.T) {
	bedDir(t)
	parents := vethParents(t)
	net := fmt.Sprintf("fmv%d", bedPort(t, 0))
	_, _ = incusCLI(t, "network", "delete", net)
	t.Cleanup(func() { _, _ = incusCLI(t, "network", "delete", net) })
	mc := map[string]any{}
	for m, p := range parents {
		mc[m] = map[string]any{"parent": p}
	}
	params := map[string]any{"name": net, "type": "macvlan", "config": map[string]any{"mtu": "1400"}, "member_config": mc}
	before := hostInterfaces(t)

	r := call(t, "network.present", false, params).mustSucceed(t)
	mustChangeKeys(t, r, "pending.node1", "pending.node2", "pending.node3", "network")
	for _, m := range bedMembers {
		on, _ := query(t, "/1.0/networks/"+net+"?target="+m)
		if on["status"] != "Created" || configOf(on)["parent"] != parents[m] || configOf(on)["mtu"] != "1400" {
			t.Errorf("%s: %v", m, on)
		}
	}
	if added := newInterfacesOn(before, hostInterfaces(t), net, parents); len(added) > 0 {
		t.Fatalf("the macvlan network created host interfaces: %v", added)
	}
	mustChangeKeys(t, call(t, "network.present", false, params).mustSucceed(t))
	// A cluster-wide key changes in place, on every member.
	params["config"] = map[string]any{"mtu": "1300"}
	mustChangeKeys(t, call(t, "network.present", false, params).mustSucceed(t), "config.mtu")
	for _, m := range bedMembers {
		if on, _ := query(t, "/1.0/networks/"+net+"?target="+m); configOf(on)["mtu"] != "1300" || configOf(on)["parent"] != parents[m] {
			t.Errorf("%s after the mtu change: %v", m, on)
		}
	}

	// A host interface Incus only reports is not ours to converge.
	mustFail(t, call(t, "network.present", false, map[string]any{"name": "lo", "type": "macvlan"}), "conflict", "host interface")
	bridge := map[string]any{"name": net, "type": "bridge"}
	mustFail(t, call(t, "network.present", false, bridge), "conflict", `type "macvlan", not "bridge"`)
	bad := map[string]any{"name": net, "type": "macvlan", "member_config": map[string]any{"node1": map[string]any{"mtu": "9000"}}}
	mustFail(t, call(t, "network.present", false, bad), "invalid_request", "mtu is not a member-specific key")

	const profile = "fleet-tnet-user"
	_, _ = incusCLI(t, "profile", "delete", profile)
	mustCLI(t, "profile", "create", profile)
	t.Cleanup(func() { _, _ = incusCLI(t, "profile", "delete", profile) })
	mustCLI(t, "profile", "device", "add", profile, "eth0", "nic", "network="+net)
	mustFail(t, call(t, "network.absent", false, map[string]any{"name": net}), "conflict", "used by profile "+profile)
	mustCLI(t, "profile", "delete", profile)
	mustChangeKeys(t, call(t, "network.absent", false, map[string]any{"name": net}).mustSucceed(t), "network")
	if _, found := query(t, "/1.0/networks/"+net); found {
		t.Fatal("network still there")
	}
}

// TestClusterStatusReportsPools: cluster.status shows each pool's state on
// each member and the database roles.
func TestClusterStatusReportsPools(t *testing.T) {
	testbed(t)
	r := call(t, "cluster.status", false, map[string]any{}).mustSucceed(t)
	var doc struct {
		Database struct {
			Voters    []string `json:"voters"`
			MaxVoters int      `json:"max_voters"`
			Leader    string   `json:"leader"`
		} `json:"database"`
		Pools []struct {
			Name    string            `json:"name"`
			Members map[string]string `json:"members"`
		} `json:"storage_pools"`
		Members []struct {
			Name, Message string
		} `json:"members"`
		Healthy bool `json:"healthy"`
	}
	if err := json.Unmarshal(r.Raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Database.Voters) != 3 || doc.Database.MaxVoters != 3 || doc.Database.Leader == "" {
		t.Fatalf("database %+v", doc.Database)
	}
	found := false
	for _, p := range doc.Pools {
		if p.Name == "local" {
			found = true
			for _, m := range bedMembers {
				if p.Members[m] != "Created" {
					t.Errorf("pool local on %s: %q", m, p.Members[m])
				}
			}
		}
	}
	if !found || !doc.Healthy {
		t.Fatalf("no pool local, or not healthy, in %s", r.Raw)
	}
	for _, m := range doc.Members {
		if m.Message == "" {
			t.Errorf("member %s without message", m.Name)
		}
	}
	for _, w := range r.Warnings {
		if strings.Contains(w, "even number") || strings.Contains(w, "fewer than cluster.max_voters") {
			t.Errorf("healthy 3-member bed warned: %s", w)
		}
	}
}

// TestNetworkCreateResumesAfterCrash kills network.present after the first
// member's pending definition; the next run defines the other two and
// creates the network cluster-wide.
func TestNetworkCreateResumesAfterCrash(t *testing.T) {
	bedDir(t)
	parents := vethParents(t)
	net := fmt.Sprintf("fmc%d", bedPort(t, 0))
	_, _ = incusCLI(t, "network", "delete", net)
	t.Cleanup(func() { _, _ = incusCLI(t, "network", "delete", net) })
	mc := map[string]any{}
	for m, p := range parents {
		mc[m] = map[string]any{"parent": p}
	}
	params := map[string]any{"name": net, "type": "macvlan", "member_config": mc}
	if !crashCall(t, "network.present", params, "network.pending:1") {
		t.Fatal("the run did not die at network.pending:1")
	}
	if doc, found := query(t, "/1.0/networks/"+net); !found || doc["status"] != "Pending" || len(stringsOf(doc, "locations")) != 1 {
		t.Fatalf("after the crash: %v", doc)
	}
	r := call(t, "network.present", false, params).mustSucceed(t)
	mustChangeKeys(t, r, "pending.node2", "pending.node3", "network")
	for _, m := range bedMembers {
		if on, _ := query(t, "/1.0/networks/"+net+"?target="+m); on["status"] != "Created" || configOf(on)["parent"] != parents[m] {
			t.Errorf("%s: %v", m, on)
		}
	}
}

// TestStoragePoolConcurrentPresent: two runs at once (two Salt minions, say)
// both succeed; whichever loses a step to the other takes it as done.
func TestStoragePoolConcurrentPresent(t *testing.T) {
	const pool = "fleet-tconc"
	sources := poolSources(t, pool, bedMembers...)
	dropPool(t, pool)
	t.Cleanup(func() { dropPool(t, pool) })
	params := poolParams(pool, sources)
	results := make(chan response, 2)
	for range 2 {
		go func() { results <- call(t, "storage_pool.present", false, params) }()
	}
	for range 2 {
		(<-results).mustSucceed(t)
	}
	for _, m := range bedMembers {
		if on, _ := query(t, "/1.0/storage-pools/"+pool+"?target="+m); on["status"] != "Created" || configOf(on)["source"] != sources[m] {
			t.Errorf("%s: %v", m, on)
		}
	}
	mustChangeKeys(t, call(t, "storage_pool.present", false, params).mustSucceed(t))
}
