package incus

import (
	"context"
	"net/url"
	"sort"
)

// MemberHealth is one cluster member as the health report and the
// pool/network actions need it: status and Incus's own message, roles
// (database, database-standby, database-leader, ...), failure domain.
type MemberHealth struct {
	Name          string            `json:"server_name"`
	Status        string            `json:"status"`
	Message       string            `json:"message"`
	Roles         []string          `json:"roles"`
	FailureDomain string            `json:"failure_domain"`
	Architecture  string            `json:"architecture"`
	Config        map[string]string `json:"config"`
}

// ClusterMembers lists the members with one request, sorted by name. A
// standalone server has none.
func (c *Client) ClusterMembers(ctx context.Context) ([]MemberHealth, error) {
	if !c.clustered {
		return nil, nil
	}
	var list []MemberHealth
	if _, err := c.call(ctx, "GET", "/cluster/members", Scope{Query: url.Values{"recursion": {"1"}}}, nil, &list); err != nil {
		return nil, err
	}
	for i := range list {
		sort.Strings(list[i].Roles)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list, nil
}

// ServerSettings reads the server's config (cluster.max_voters and the
// other cluster-wide keys).
func (c *Client) ServerSettings(ctx context.Context) (map[string]string, error) {
	var info struct {
		Config map[string]any `json:"config"`
	}
	if _, err := c.call(ctx, "GET", "", Scope{}, nil, &info); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range info.Config {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out, nil
}
