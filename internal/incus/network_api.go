package incus

import (
	"context"
	"net/url"
)

// The network REST calls of the fleet, through the call/callOp seam with
// plain structs of our own (only the fields we read or send).

// networkInfo is what GET /1.0/networks/NAME answers. Unmanaged host
// interfaces (a bridge the operator made) are listed too, managed=false.
type networkInfo struct {
	Name    string            `json:"name"`
	Type    string            `json:"type"`
	Managed bool              `json:"managed"`
	Status  string            `json:"status"`
	Config  map[string]string `json:"config"`
}

// networkCreate is the body of POST /1.0/networks.
type networkCreate struct {
	Name        string            `json:"name"`
	Type        string            `json:"type"`
	Description string            `json:"description"`
	Config      map[string]string `json:"config"`
}

// serverConfigInfo is the part of GET /1.0 the network settings live in.
type serverConfigInfo struct {
	Config map[string]string `json:"config"`
}

// clusterConfig reads the cluster-wide server config (user.* keys included).
func (c *Client) clusterConfig(ctx context.Context) (map[string]string, error) {
	var info serverConfigInfo
	if _, err := c.call(ctx, "GET", "", Scope{}, nil, &info); err != nil {
		return nil, err
	}
	return info.Config, nil
}

// getNetwork reads one network of the default project, as seen by member
// (empty: any member; unmanaged interfaces differ per member).
func (c *Client) getNetwork(ctx context.Context, name, member string) (*networkInfo, error) {
	var n networkInfo
	if _, err := c.call(ctx, "GET", "/networks/"+url.PathEscape(name), Scope{Target: member}, nil, &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// listNetworks reads every network of the default project with its config.
func (c *Client) listNetworks(ctx context.Context) ([]networkInfo, error) {
	var ns []networkInfo
	_, err := c.call(ctx, "GET", "/networks", Scope{Query: url.Values{"recursion": {"1"}}}, nil, &ns)
	return ns, err
}

// createNetwork creates a network in the default project. An OVN network
// is cluster-wide at once: no per-member pending step as for bridges.
func (c *Client) createNetwork(ctx context.Context, body networkCreate) error {
	_, err := c.call(ctx, "POST", "/networks", Scope{}, body, nil)
	return err
}

// deleteNetwork deletes a network of the default project.
func (c *Client) deleteNetwork(ctx context.Context, name string) error {
	_, err := c.call(ctx, "DELETE", "/networks/"+url.PathEscape(name), Scope{}, nil, nil)
	return err
}

// instanceFull is the part of GET /1.0/instances?recursion=2 the names
// need: who it is, whether it runs, and its addresses per interface.
type instanceFull struct {
	Name     string            `json:"name"`
	Status   string            `json:"status"`
	Location string            `json:"location"`
	Config   map[string]string `json:"config"`
	State    *netState         `json:"state"`
}

type netState struct {
	Status  string                      `json:"status"`
	Network map[string]instanceNICState `json:"network"`
}

type instanceNICState struct {
	Addresses []struct {
		Family  string `json:"family"`
		Address string `json:"address"`
		Scope   string `json:"scope"`
	} `json:"addresses"`
}

// inet4 is the interface's first global IPv4 address, or "".
func (s instanceNICState) inet4() string {
	for _, a := range s.Addresses {
		if a.Family == "inet" && a.Scope == "global" {
			return a.Address
		}
	}
	return ""
}

// listInstancesFull reads a stack's instances with their state in one
// call; Incus gathers the state from every member.
func (c *Client) listInstancesFull(ctx context.Context, stack string) ([]instanceFull, error) {
	var out []instanceFull
	_, err := c.call(ctx, "GET", "/instances", Scope{Project: stack, Query: url.Values{"recursion": {"2"}}}, nil, &out)
	return out, err
}

// instanceNetState reads one instance's state.
func (c *Client) instanceNetState(ctx context.Context, stack, name string) (*netState, error) {
	var st netState
	if _, err := c.call(ctx, "GET", "/instances/"+url.PathEscape(name)+"/state", Scope{Project: stack}, nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}
