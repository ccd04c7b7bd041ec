package cluster

import (
	"slices"
	"sort"
)

// DefaultGroup and DefaultFailureDomain are what Incus gives a new member.
const (
	DefaultGroup         = "default"
	DefaultFailureDomain = "default"
)

// Desired is what a run asks of one member, with one rule for every field
// (Salt's): nil means not managed, left as it is; an empty map or list
// means none. Labels are the complete set incus-fleet manages: an empty
// map removes those it set before, nil leaves them alone (a join re-run
// without labels must not strip the placement labels).
type Desired struct {
	Labels        map[string]string
	Groups        []string
	FailureDomain *string
	Description   *string
}

// Member is a cluster member as Incus reports it.
type Member struct {
	Name          string
	Status        string
	URL           string
	Config        map[string]string
	Groups        []string
	FailureDomain string
	Description   string
}

// NewMember is how a member looks right after it joined or bootstrapped:
// the baseline a test run predicts against before the member exists.
func NewMember(name string) Member {
	return Member{Name: name, Config: map[string]string{}, Groups: []string{DefaultGroup}, FailureDomain: DefaultFailureDomain}
}

// MemberPlan is what to write to a member so it matches Desired.
type MemberPlan struct {
	Config        map[string]string // the member's complete new config
	Groups        []string          // its complete new group list, sorted
	FailureDomain string
	Description   string
	CreateGroups  []string // groups that must exist first, sorted
	Changes       []Change
}

// Changed reports whether the member needs an update.
func (p MemberPlan) Changed() bool { return len(p.Changes) > 0 }

// PlanMember compares a member with what is desired. existingGroups are
// the cluster's groups; a requested group missing from it is created.
func PlanMember(d Desired, cur Member, existingGroups []string) MemberPlan {
	cfg, changes := cur.Config, []Change(nil)
	if d.Labels != nil {
		cfg, changes = planLabels(cur.Config, d.Labels)
	}
	p := MemberPlan{Config: cfg, Groups: sortedUnique(cur.Groups), FailureDomain: cur.FailureDomain, Description: cur.Description, Changes: changes}
	if d.Groups != nil {
		want := sortedUnique(d.Groups)
		for _, g := range want {
			if !slices.Contains(existingGroups, g) {
				p.CreateGroups = append(p.CreateGroups, g)
				p.Changes = append(p.Changes, Change{Key: "cluster_groups." + g, Old: nil, New: g})
			}
		}
		if !slices.Equal(want, p.Groups) {
			p.Changes = append(p.Changes, Change{Key: "groups", Old: p.Groups, New: want})
			p.Groups = want
		}
	}
	if d.FailureDomain != nil && *d.FailureDomain != cur.FailureDomain {
		p.Changes = append(p.Changes, Change{Key: "failure_domain", Old: cur.FailureDomain, New: *d.FailureDomain})
		p.FailureDomain = *d.FailureDomain
	}
	if d.Description != nil && *d.Description != cur.Description {
		p.Changes = append(p.Changes, Change{Key: "description", Old: cur.Description, New: *d.Description})
		p.Description = *d.Description
	}
	return p
}

func sortedUnique(in []string) []string {
	out := append([]string{}, in...)
	sort.Strings(out)
	return slices.Compact(out)
}
