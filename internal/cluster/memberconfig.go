package cluster

import "fmt"

// ConfigKey is one per-member setting a joining member must provide for a
// storage pool or network of the cluster (Incus's member_config).
type ConfigKey struct {
	Entity string `json:"entity"` // "storage-pool" or "network"
	Name   string `json:"name"`
	Key    string `json:"key"`
	Value  string `json:"value"`
}

// ID names a key the way messages show it: storage-pool/local/source.
func (k ConfigKey) ID() string { return k.Entity + "/" + k.Name + "/" + k.Key }

// FillMemberConfig gives every key the cluster requires a value, so a join
// never stops to ask:
//   - an override from the request wins;
//   - "source" is left empty: the pool's default on this member (a
//     directory inside this member's INCUS_DIR for dir, a loop file for
//     zfs/btrfs/lvm), because the answering member's source is a path or
//     device of that other machine;
//   - every other key (size, zfs.pool_name, lvm.vg_name, a bridge's
//     external interfaces...) copies the answering member's value, which
//     is right for members built alike and can be overridden otherwise.
//
// answering maps ConfigKey.ID() to the answering member's value. Overrides
// that match no required key are reported: Incus would ignore them.
func FillMemberConfig(required []ConfigKey, answering map[string]string, overrides []ConfigKey) ([]ConfigKey, []string) {
	given := map[string]string{}
	for _, o := range overrides {
		given[o.ID()] = o.Value
	}
	out := make([]ConfigKey, 0, len(required))
	used := map[string]bool{}
	for _, k := range required {
		switch v, ok := given[k.ID()]; {
		case ok:
			k.Value = v
			used[k.ID()] = true
		case k.Key == "source":
			k.Value = ""
		default:
			k.Value = answering[k.ID()]
		}
		out = append(out, k)
	}
	var warnings []string
	for _, o := range overrides {
		if !used[o.ID()] {
			warnings = append(warnings, fmt.Sprintf("member_config %s is not a per-member key of this cluster; ignored", o.ID()))
		}
	}
	return out, warnings
}
