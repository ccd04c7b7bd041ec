package incus

import (
	"context"
	"net/url"
)

// DeployedSpecs returns, per stack, the deployed spec recorded in its
// project (KeySpecCurrent), in one request. Projects without a record are
// not stacks and are left out.
func (c *Client) DeployedSpecs(ctx context.Context) (map[string]string, error) {
	var projects []struct {
		Name   string            `json:"name"`
		Config map[string]string `json:"config"`
	}
	if _, err := c.call(ctx, "GET", "/projects", Scope{Query: url.Values{"recursion": {"1"}}}, nil, &projects); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, p := range projects {
		if spec := p.Config[KeySpecCurrent]; spec != "" {
			out[p.Name] = spec
		}
	}
	return out, nil
}
