package incus

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
)

// clusterMember is GET /1.0/cluster/members/{name}.
type clusterMember struct {
	ServerName    string            `json:"server_name"`
	URL           string            `json:"url"`
	Roles         []string          `json:"roles"`
	Architecture  string            `json:"architecture"`
	FailureDomain string            `json:"failure_domain"`
	Description   string            `json:"description"`
	Config        map[string]string `json:"config"`
	Groups        []string          `json:"groups"`
	Status        string            `json:"status"`
	Message       string            `json:"message"`
}

// clusterMemberPut is the writable part of a cluster member.
type clusterMemberPut struct {
	Description   string            `json:"description"`
	Config        map[string]string `json:"config"`
	Roles         []string          `json:"roles"`
	FailureDomain string            `json:"failure_domain"`
	Groups        []string          `json:"groups"`
}

func memberPath(name string) string { return "/cluster/members/" + url.PathEscape(name) }

// Member reads one cluster member; found is false when the cluster has no
// member of that name.
func (c *Client) Member(name string) (m cluster.Member, found bool, err error) {
	if !c.clustered {
		return cluster.Member{}, false, nil
	}
	var raw clusterMember
	if _, err := c.call(context.Background(), http.MethodGet, memberPath(name), Scope{}, nil, &raw); err != nil {
		if err = classify(err, "read cluster member %s", name); isNotFound(err) {
			return cluster.Member{}, false, nil
		}
		return cluster.Member{}, false, err
	}
	return memberOf(raw), true, nil
}

// listMembers is GET /1.0/cluster/members?recursion=1.
func (c *Client) listMembers(ctx context.Context) ([]clusterMember, error) {
	var list []clusterMember
	if _, err := c.call(ctx, http.MethodGet, "/cluster/members", Scope{Query: url.Values{"recursion": {"1"}}}, nil, &list); err != nil {
		return nil, classify(err, "list cluster members")
	}
	return list, nil
}

// MemberURLs lists the cluster's members, name → URL.
func (c *Client) MemberURLs() (map[string]string, error) {
	list, err := c.listMembers(context.Background())
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(list))
	for _, m := range list {
		out[m.ServerName] = m.URL
	}
	return out, nil
}

func memberOf(m clusterMember) cluster.Member {
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
	var urls []string
	if _, err := c.call(context.Background(), http.MethodGet, "/cluster/groups", Scope{}, nil, &urls); err != nil {
		return nil, classify(err, "list cluster groups")
	}
	names := namesFromURLs(urls)
	sort.Strings(names)
	return names, nil
}

// namesFromURLs turns a non-recursive listing (/1.0/things/NAME) into names.
func namesFromURLs(urls []string) []string {
	out := make([]string, 0, len(urls))
	for _, u := range urls {
		p, err := url.Parse(u)
		if err != nil {
			continue
		}
		name := p.Path
		for i := len(name) - 1; i >= 0; i-- {
			if name[i] == '/' {
				name = name[i+1:]
				break
			}
		}
		if n, err := url.PathUnescape(name); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// ApplyMemberPlan creates the plan's missing groups, then writes the
// member's config, groups, failure domain and description in one update.
// Roles are kept as they are; the ETag makes a concurrent edit fail
// instead of being overwritten.
func (c *Client) ApplyMemberPlan(name string, p cluster.MemberPlan) error {
	ctx := context.Background()
	for _, g := range p.CreateGroups {
		post := map[string]any{"name": g, "description": "created by incus-fleet"}
		_, err := c.call(ctx, http.MethodPost, "/cluster/groups", Scope{}, post, nil)
		if err = classify(err, "create cluster group %s", g); err != nil && !isConflict(err) && !alreadyExists(err) {
			return err
		}
	}
	var raw clusterMember
	etag, err := c.call(ctx, http.MethodGet, memberPath(name), Scope{}, nil, &raw)
	if err != nil {
		return classify(err, "read cluster member %s", name)
	}
	put := clusterMemberPut{Description: p.Description, Config: p.Config, Roles: raw.Roles, FailureDomain: p.FailureDomain, Groups: p.Groups}
	if _, err := c.callIfMatch(ctx, http.MethodPut, memberPath(name), Scope{}, etag, put, nil); err != nil {
		return classify(err, "update cluster member %s", name)
	}
	return nil
}

func isConflict(err error) bool { return errors.Is(err, ErrConflict) }
