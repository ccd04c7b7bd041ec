package clusterres

import "github.com/incus-fleet/incus-fleet/internal/cluster"

// JoinValues fills a joining member's per-member keys from the pool and
// network definitions (the same specs storage_pool.present and
// network.present take, e.g. the pillar's incus:storage_pools): for each
// key the cluster requires of the joiner, the definition's value for that
// member (member_config[member], else the member-specific key in config).
// Keys the definitions do not give are not returned, so the join's other
// rules (source empty = the member's default, others copied) still apply.
func JoinValues(required []cluster.ConfigKey, member string, pools, networks map[string]Spec) []cluster.ConfigKey {
	var out []cluster.ConfigKey
	for _, k := range required {
		var kind Kind
		var spec Spec
		var ok bool
		switch k.Entity {
		case Pool.Entity:
			kind = Pool
			spec, ok = pools[k.Name]
		case Network.Entity:
			kind = Network
			spec, ok = networks[k.Name]
		}
		if !ok {
			continue
		}
		if v, given := kind.ForMember(spec, member)[k.Key]; given {
			k.Value = v
			out = append(out, k)
		}
	}
	return out
}

// DefinedValues lists every member-specific key the definitions give
// member, for a join that cannot ask the cluster which keys it requires
// (a join token grants no read access before the join). Incus applies the
// entries of pools and networks it has and ignores the rest.
func DefinedValues(member string, pools, networks map[string]Spec) []cluster.ConfigKey {
	var out []cluster.ConfigKey
	add := func(kind Kind, defs map[string]Spec) {
		for _, name := range sortedKeys(defs) {
			values := kind.ForMember(defs[name], member)
			for _, key := range sortedKeys(values) {
				out = append(out, cluster.ConfigKey{Entity: kind.Entity, Name: name, Key: key, Value: values[key]})
			}
		}
	}
	add(Pool, pools)
	add(Network, networks)
	return out
}
