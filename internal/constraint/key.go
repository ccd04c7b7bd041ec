package constraint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// kind says which member attribute a Key reads.
type kind uint8

const (
	kindInvalid kind = iota
	kindLabel
	kindID
	kindHostname
	kindRole
	kindArch
	kindOS
	kindGroup
	kindFailureDomain
)

// labelPrefix introduces a member label key (Member.Labels, i.e. user.<k>).
const labelPrefix = "node.labels."

// fixedKeys maps the lower-cased fixed key names to their kind. Label keys
// are handled separately because their suffix is free-form.
var fixedKeys = map[string]kind{
	"node.id":             kindID,
	"node.hostname":       kindHostname,
	"node.role":           kindRole,
	"node.platform.arch":  kindArch,
	"node.platform.os":    kindOS,
	"node.group":          kindGroup,
	"node.failure_domain": kindFailureDomain,
}

// kindNames is the canonical spelling of each fixed kind, for String.
var kindNames = [...]string{
	kindID:            "node.id",
	kindHostname:      "node.hostname",
	kindRole:          "node.role",
	kindArch:          "node.platform.arch",
	kindOS:            "node.platform.os",
	kindGroup:         "node.group",
	kindFailureDomain: "node.failure_domain",
}

// ValidKeys lists the keys constraints and spread preferences accept, in the
// order error messages show them.
func ValidKeys() []string {
	return []string{
		"node.id", "node.hostname", "node.role", "node.platform.arch",
		"node.platform.os", "node.group", "node.failure_domain", labelPrefix + "<key>",
	}
}

// Key is a parsed member attribute name. It is shared by constraints and by
// the scheduler's spread preferences so both accept exactly the same names.
type Key struct {
	kind  kind
	label string // label name as written, only for kindLabel
}

// ParseKey resolves a key name. Fixed names and the node.labels. prefix are
// case-insensitive (Swarm does the same); the label name itself is kept as
// written because Incus config keys are case-sensitive.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	if len(s) > len(labelPrefix) && strings.EqualFold(s[:len(labelPrefix)], labelPrefix) {
		label := s[len(labelPrefix):]
		if !validLabelName(label) {
			return Key{}, fmt.Errorf("invalid label name %q", label)
		}
		return Key{kind: kindLabel, label: label}, nil
	}
	if k, ok := fixedKeys[strings.ToLower(s)]; ok {
		return Key{kind: k}, nil
	}
	return Key{}, fmt.Errorf("unknown key %q (valid keys: %s)", s, strings.Join(ValidKeys(), ", "))
}

// validLabelName accepts what can follow "user." in an Incus config key
// while refusing characters that only appear through a mistyped operator.
func validLabelName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '.', r == '_', r == '-', r == '/', r == ':':
		default:
			return false
		}
	}
	return true
}

// String returns the normalised key name, e.g. "node.labels.rack".
func (k Key) String() string {
	if k.kind == kindLabel {
		return labelPrefix + k.label
	}
	if int(k.kind) < len(kindNames) && kindNames[k.kind] != "" {
		return kindNames[k.kind]
	}
	return "<invalid>"
}

// IsMember reports whether the key identifies a single member (node.id,
// node.hostname); spreading over it is the scheduler's default anyway.
func (k Key) IsMember() bool { return k.kind == kindID || k.kind == kindHostname }

// has reports whether any of the member's values for the key equals v
// (case-insensitively). archNorm is v already passed through NormArch, so
// the hot path does no allocation for arch comparisons of the expected side.
func (k Key) has(m model.Member, v, archNorm string) bool {
	switch k.kind {
	case kindLabel:
		return strings.EqualFold(m.Labels[k.label], v)
	case kindID, kindHostname:
		return strings.EqualFold(m.Name, v)
	case kindRole:
		return hasRole(m.Roles, v) // roles.go
	case kindGroup:
		return anyEqualFold(m.Groups, v)
	case kindArch:
		return NormArch(m.Architecture) == archNorm
	case kindOS:
		return strings.EqualFold("linux", v)
	case kindFailureDomain:
		return strings.EqualFold(m.FailureDomain, v)
	}
	return false
}

func anyEqualFold(list []string, v string) bool {
	for _, s := range list {
		if strings.EqualFold(s, v) {
			return true
		}
	}
	return false
}

// Value returns the member's value for the key as a spread branch name:
// lower-cased, architectures folded to one name, multi-valued keys (roles,
// groups) sorted and joined with ",". ok is false when the member has no
// value, so such members can form their own branch.
func (k Key) Value(m model.Member) (v string, ok bool) {
	switch k.kind {
	case kindLabel:
		v = m.Labels[k.label]
	case kindID, kindHostname:
		v = m.Name
	case kindRole:
		v = joinSet(m.Roles)
	case kindGroup:
		v = joinSet(m.Groups)
	case kindArch:
		v = NormArch(m.Architecture)
	case kindOS:
		v = "linux"
	case kindFailureDomain:
		v = m.FailureDomain
	}
	v = strings.ToLower(v)
	return v, v != ""
}

// joinSet turns a multi-valued attribute into one stable branch name.
func joinSet(list []string) string {
	switch len(list) {
	case 0:
		return ""
	case 1:
		return list[0]
	}
	s := make([]string, 0, len(list))
	for _, v := range list {
		if v != "" {
			s = append(s, strings.ToLower(v))
		}
	}
	slices.Sort(s)
	return strings.Join(slices.Compact(s), ",")
}
