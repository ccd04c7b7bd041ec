package clusterres

import (
	"slices"
	"sort"
)

// Kind says how one sort of resource differs from the other: its name in
// messages and changes, the param naming its type, and which config keys
// Incus keeps per member.
type Kind struct {
	Noun      string // "storage pool"
	Key       string // "storage_pool": response field and change key
	Entity    string // "storage-pool": the entity of a join's member_config
	TypeParam string // "driver" or "type"
	// memberKeys are the keys Incus stores per member
	// (db.NodeSpecificStorageConfig / NodeSpecificNetworkConfig).
	memberKeys []string
	// fixed are keys Incus refuses to change once the resource exists.
	fixed []string
	// noMemberConfig lists the types Incus defines on every member itself
	// (a POST with ?target= is refused for them): one cluster-wide create.
	noMemberConfig []string
}

// Pool is a storage pool.
var Pool = Kind{
	Noun: "storage pool", Key: "storage_pool", Entity: "storage-pool", TypeParam: "driver",
	memberKeys: []string{"lvm.thinpool_name", "lvm.vg.force_reuse", "lvm.vg_name", "size", "source", "source.wipe",
		"volatile.initial_source", "zfs.pool_name"},
	fixed: []string{"lvm.thinpool_name", "lvm.vg_name", "source", "volatile.initial_source", "zfs.pool_name"},
}

// Network is a managed network.
var Network = Kind{
	Noun: "network", Key: "network", Entity: "network", TypeParam: "type",
	memberKeys:     []string{"bgp.ipv4.nexthop", "bgp.ipv6.nexthop", "bridge.external_interfaces", "parent"},
	noMemberConfig: []string{"ovn"},
}

// MemberKey reports whether Incus keeps key per member.
func (k Kind) MemberKey(key string) bool { return slices.Contains(k.memberKeys, key) }

func (k Kind) fixedKey(key string) bool { return slices.Contains(k.fixed, key) }

// MemberKeys lists the member-specific keys, for messages and docs.
func (k Kind) MemberKeys() []string { return append([]string(nil), k.memberKeys...) }

// PerMember reports whether a resource of type typ is defined member by
// member before the cluster-wide create.
func (k Kind) PerMember(typ string) bool { return !slices.Contains(k.noMemberConfig, typ) }

// Spec is what storage_pool.present / network.present ask for.
type Spec struct {
	Name string
	Type string // driver or network type
	// Config holds cluster-wide keys; a member-specific key here is the
	// value for every member that member_config does not override.
	Config       map[string]string
	MemberConfig map[string]map[string]string
	Description  *string // nil: not managed
}

// Split separates the cluster-wide keys from the member-specific defaults.
func (k Kind) Split(cfg map[string]string) (global, member map[string]string) {
	global, member = map[string]string{}, map[string]string{}
	for key, v := range cfg {
		if k.MemberKey(key) {
			member[key] = v
		} else {
			global[key] = v
		}
	}
	return global, member
}

// ForMember is member's member-specific config: the defaults from config,
// overridden by member_config[member].
func (k Kind) ForMember(s Spec, member string) map[string]string {
	_, out := k.Split(s.Config)
	for key, v := range s.MemberConfig[member] {
		out[key] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
