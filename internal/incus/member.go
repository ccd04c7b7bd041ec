package incus

import (
	"errors"
	"sort"

	"github.com/lxc/incus/v6/shared/api"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
)

// Member reads one cluster member; found is false when the cluster has no
// member of that name.
func (c *Client) Member(name string) (m cluster.Member, found bool, err error) {
	if !c.clustered {
		return cluster.Member{}, false, nil
	}
	raw, _, err := c.srv.GetClusterMember(name)
	if err != nil {
		if err = classify(err, "read cluster member %s", name); isNotFound(err) {
			return cluster.Member{}, false, nil
		}
		return cluster.Member{}, false, err
	}
	return memberOf(*raw), true, nil
}

// MemberURLs lists the cluster's members, name → URL.
func (c *Client) MemberURLs() (map[string]string, error) {
	list, err := c.srv.GetClusterMembers()
	if err != nil {
		return nil, classify(err, "list cluster members")
	}
	out := make(map[string]string, len(list))
	for _, m := range list {
		out[m.ServerName] = m.URL
	}
	return out, nil
}

func memberOf(m api.ClusterMember) cluster.Member {
	cfg := map[string]string{}
	for k, v := range m.Config {
		cfg[k] = v
	}
	groups := append([]string{}, m.Groups...)
	sort.Strings(groups)
	return cluster.Member{Name: m.ServerName, Status: m.Status, URL: m.URL, Config: cfg, Groups: groups, FailureDomain: m.FailureDomain, Description: m.Description}
}

// GroupNames lists the cluster's groups.
func (c *Client) GroupNames() ([]string, error) {
	names, err := c.srv.GetClusterGroupNames()
	if err != nil {
		return nil, classify(err, "list cluster groups")
	}
	sort.Strings(names)
	return names, nil
}

// ApplyMemberPlan creates the plan's missing groups, then writes the
// member's config, groups, failure domain and description in one update.
// Roles are kept as they are; the ETag makes a concurrent edit fail
// instead of being overwritten.
func (c *Client) ApplyMemberPlan(name string, p cluster.MemberPlan) error {
	for _, g := range p.CreateGroups {
		err := c.srv.CreateClusterGroup(api.ClusterGroupsPost{Name: g,
			ClusterGroupPut: api.ClusterGroupPut{Description: "created by incus-fleet"}})
		if err = classify(err, "create cluster group %s", g); err != nil && !isConflict(err) {
			return err
		}
	}
	raw, etag, err := c.srv.GetClusterMember(name)
	if err != nil {
		return classify(err, "read cluster member %s", name)
	}
	put := raw.Writable()
	put.Config, put.Groups, put.FailureDomain, put.Description = p.Config, p.Groups, p.FailureDomain, p.Description
	if err := c.srv.UpdateClusterMember(name, put, etag); err != nil {
		return classify(err, "update cluster member %s", name)
	}
	return nil
}

func isConflict(err error) bool { return errors.Is(err, ErrConflict) }
